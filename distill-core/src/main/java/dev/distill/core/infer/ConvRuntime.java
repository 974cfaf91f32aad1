package dev.distill.core.infer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.layers.ActivationLayer;
import org.deeplearning4j.nn.layers.BaseOutputLayer;
import org.deeplearning4j.nn.layers.DropoutLayer;
import org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.deeplearning4j.nn.layers.pooling.GlobalPoolingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.reduce.floating.Mean;
import org.nd4j.linalg.api.ops.impl.reduce.same.Max;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * A sequential network (convolutions, depthwise convolutions, batch norm, pooling, dense layers)
 * compiled for batched inference: channels-last (NHWC) tensors, one libnd4j op per layer, batch norm
 * folded into the layer before it where that is exact, and every intermediate buffer allocated once
 * per batch size and reused.
 *
 * <p>Why: measured on this project's machines, DL4J's {@code output()} spends most of a small
 * convolutional network's time outside arithmetic. Each layer's op allocates fresh native buffers
 * (a few MB at batch 256), and the first touch of fresh pages costs more than the convolution: the
 * same libnd4j {@code conv2d} took 2.9 ms with a reused output buffer and 51 ms with a fresh one
 * (28x28, 1 -> 16 channels, batch 256). Channels-first convolutions with few channels are also slow
 * in libnd4j (a 1x1 conv 16 -> 48 at 14x14: 50 ms channels-first vs 0.8 ms channels-last), which
 * is the shape of a MobileNet-style student's pointwise layers. Results equal {@code output()} up to
 * float rounding.
 *
 * <p>Not thread-safe in the sense of sharing buffers: {@link #output} is synchronized, so one instance
 * serves one caller at a time. Later changes to the network's parameters are not seen.
 */
public final class ConvRuntime {

    private final int inputSize;
    /** Shape of the input in NHWC without the batch dimension; {@code permute} when given channels-first. */
    private final Tensor input;
    private final boolean permuteInput;
    private final List<Step> steps;
    private final int outputSize;
    /** Buffers of the last few batch sizes (an evaluation loop has its batch size and a last partial batch). */
    private final Map<Long, Buffers> buffers = new LinkedHashMap<>(8, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, Buffers> eldest) {
            return size() > KEPT_BATCH_SIZES;
        }
    };
    private static final int KEPT_BATCH_SIZES = 3;

    private ConvRuntime(int inputSize, Tensor input, boolean permuteInput, List<Step> steps) {
        this.inputSize = inputSize;
        this.input = input;
        this.permuteInput = permuteInput;
        this.steps = List.copyOf(steps);
        Tensor last = input;
        for (Step step : steps) {
            last = step.output(last);
        }
        this.outputSize = (int) last.size();
    }

    /** A tensor's shape per example, channels last. A flat feature vector is 1 x 1 x features. */
    record Tensor(long height, long width, long channels) {
        long size() {
            return height * width * channels;
        }

        long[] batch(long n) {
            return new long[] {n, height, width, channels};
        }
    }

    /** One layer (or a layer with its batch norm folded in). */
    private interface Step {
        /** What the step computes, for reports and tests: {@code conv2d}, {@code batch_norm}, ... */
        String name();

        Tensor output(Tensor in);

        /** Writes the result of {@code in} to {@code out}; {@code out} is null for steps that work in place. */
        void run(INDArray in, INDArray out);

        /**
         * {@link #run} on these buffers, prepared once: building a libnd4j op call costs about as much as
         * running a small one (measured ~60 us of ~100 us per call on a tiny tensor).
         */
        default Runnable bind(INDArray in, INDArray out) {
            return () -> run(in, out);
        }

        /** Whether the step overwrites its input instead of writing a new buffer. */
        default boolean inPlace() {
            return false;
        }
    }

    /**
     * Compiles {@code net}, whose input is a flat feature vector per example (as this project's networks
     * take images, with DL4J's feed-forward-to-CNN preprocessor in front of the first convolution).
     *
     * @throws IllegalArgumentException naming the first layer it cannot run
     */
    public static ConvRuntime compile(MultiLayerNetwork net) {
        Layer[] layers = net.getLayers();
        if (layers.length == 0) {
            throw new IllegalArgumentException("the network has no layers");
        }
        List<Step> steps = new ArrayList<>();
        Tensor shape = null;
        Tensor first = null;
        boolean permuteInput = false;
        int inputSize = -1;
        for (int i = 0; i < layers.length; i++) {
            Layer layer = layers[i];
            InputPreProcessor pre = net.getLayerWiseConfigurations().getInputPreProcess(i);
            if (i == 0) {
                if (pre instanceof FeedForwardToCnnPreProcessor p) {
                    first = new Tensor(p.getInputHeight(), p.getInputWidth(), p.getNumChannels());
                    // DL4J reads a flat image as channels-first; one channel needs no reordering
                    permuteInput = p.getNumChannels() > 1;
                } else if (pre == null && (layer instanceof DenseLayer || layer instanceof BaseOutputLayer)) {
                    first = new Tensor(1, 1, layer.getParam("W").size(0));
                } else {
                    throw new IllegalArgumentException("layer 0 (" + layer.getClass().getSimpleName() + "): the"
                            + " runtime takes networks fed flat feature vectors (dense first, or an image through"
                            + " DL4J's feed-forward-to-CNN preprocessor)");
                }
                shape = first;
                inputSize = (int) first.size();
            } else if (pre != null && !(pre instanceof CnnToFeedForwardPreProcessor)) {
                throw new IllegalArgumentException("layer " + i + ": input preprocessor "
                        + pre.getClass().getSimpleName() + " is not supported by the runtime");
            }
            Step step = step(layer, i, shape, steps);
            if (step != null) {
                steps.add(step);
                shape = step.output(shape);
            }
        }
        return new ConvRuntime(inputSize, first, permuteInput, simplify(steps, first));
    }

    /** The step for {@code layer}, null for a layer that does nothing at inference (or was folded). */
    private static Step step(Layer layer, int index, Tensor in, List<Step> before) {
        Object conf = layer.conf().getLayer();
        if (layer instanceof DropoutLayer) {
            return null;
        }
        if (conf instanceof SeparableConvolution2D || conf instanceof DepthwiseConvolution2D) {
            if (conf instanceof SeparableConvolution2D) {
                throw unsupported(index, layer, "use depthwise_conv2d followed by a 1x1 conv2d");
            }
            return Conv.depthwise(layer, index, (DepthwiseConvolution2D) conf, in);
        }
        if (conf instanceof ConvolutionLayer c && layer instanceof org.deeplearning4j.nn.layers.convolution
                .ConvolutionLayer) {
            return Conv.regular(layer, index, c, in);
        }
        if (layer instanceof BatchNormalization) {
            return batchNorm(layer, index, in, before);
        }
        if (conf instanceof SubsamplingLayer s && layer instanceof org.deeplearning4j.nn.layers.convolution
                .subsampling.SubsamplingLayer) {
            return Pool.of(index, layer, s);
        }
        if (layer instanceof GlobalPoolingLayer) {
            PoolingType type = ((org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer) conf).getPoolingType();
            if (type != PoolingType.AVG && type != PoolingType.MAX) {
                throw unsupported(index, layer, type + " pooling");
            }
            return new GlobalPool(type == PoolingType.AVG);
        }
        if (layer instanceof DenseLayer || layer instanceof BaseOutputLayer) {
            if (layer.getParam("W") == null) {
                throw unsupported(index, layer, "an output layer without weights");
            }
            return Dense.of(layer, index, in);
        }
        if (layer instanceof ActivationLayer) {
            IActivation fn = ((org.deeplearning4j.nn.conf.layers.ActivationLayer) conf).getActivationFn();
            return new Activate(fn);
        }
        throw unsupported(index, layer, "no runtime step for this layer type");
    }

    /**
     * Rewrites the compiled steps into cheaper ones that compute the same function (up to float
     * rounding), in this order:
     * <ol>
     * <li>a non-decreasing activation before a max pooling moves after it (max commutes with it), so it
     *     runs on a quarter of the values;
     * <li>batch norms move past max pooling where that is exact (no negative scale) and past average
     *     pooling, and a batch norm that reaches a dense layer folds into it;
     * <li>global average pooling followed by a dense layer folds into that layer ({@link #foldAveragePooling}).
     * </ol>
     * Why: a MobileNet-style student puts batch norm after the activation, where it cannot fold into the
     * convolution before it; measured, those extra passes over the feature maps were a quarter of its time.
     * (Folding relu(x) * s + t = max(x * s + t, t) into the layer before was tried and dropped: libnd4j's
     * broadcast maximum took 10 to 40 times as long as the batch norm pass it would replace.)
     */
    static List<Step> simplify(List<Step> compiled, Tensor input) {
        List<Step> steps = new ArrayList<>(compiled);
        // every rule moves work later or removes a step, so restarting after each change terminates
        for (int i = 0; i + 1 < steps.size(); i++) {
            Step step = steps.get(i);
            Step next = steps.get(i + 1);
            boolean monotone = step instanceof Activate act && nonDecreasing(act.activation())
                    || step instanceof Affine a && a.nonNegativeScale();
            boolean averaging = next instanceof Pool p && !p.max() || next instanceof GlobalPool g && g.average();
            if (step instanceof Foldable f && nonDecreasing(f.activation()) && maxPooling(next)) {
                steps.set(i, f.folded(null, null, null));
                steps.add(i + 1, new Activate(f.activation()));
            } else if (monotone && maxPooling(next) || step instanceof Affine && averaging) {
                steps.set(i, next);
                steps.set(i + 1, step);
            } else if (step instanceof Affine a && next instanceof Dense d) {
                steps.set(i + 1, d.afterAffine(a.scale(), a.shift()));
                steps.remove(i);
            } else {
                continue;
            }
            i = -1;
        }
        return foldAveragePooling(steps, input);
    }

    private static boolean maxPooling(Step step) {
        return step instanceof Pool p && p.max() || step instanceof GlobalPool g && !g.average();
    }

    private static boolean plainRelu(IActivation fn) {
        return fn instanceof ActivationReLU r && !(fn instanceof ActivationReLU6) && zero(r.getMax())
                && zero(r.getThreshold()) && zero(r.getNegativeSlope());
    }

    private static boolean zero(Double value) {
        return value == null || value == 0;
    }

    /** Activations that never decrease, so that they commute with taking a maximum. */
    private static boolean nonDecreasing(IActivation fn) {
        return plainRelu(fn) || fn instanceof ActivationReLU6 || fn instanceof ActivationSigmoid
                || fn instanceof ActivationTanH || fn instanceof ActivationLReLU l && l.getAlpha() >= 0;
    }

    /** Largest weight matrix (floats) {@link #foldAveragePooling} may make. */
    private static final long MAX_FOLDED_WEIGHTS = 1L << 22;

    /**
     * Global average pooling followed by a dense layer becomes one dense layer over the whole feature map,
     * with the weights repeated per position and divided by the number of positions: the same linear
     * map (up to rounding). Why: the pooling is a strided reduction libnd4j runs slowly; measured at
     * 7x7x128 (batch 256), pooling plus GEMM took 1.81 ms and the single larger GEMM 0.59 ms.
     */
    private static List<Step> foldAveragePooling(List<Step> compiled, Tensor input) {
        List<Step> steps = new ArrayList<>(compiled);
        Tensor shape = input;
        for (int i = 0; i + 1 < steps.size(); i++) {
            Step step = steps.get(i);
            if (step instanceof GlobalPool g && g.average() && steps.get(i + 1) instanceof Dense d
                    && shape.size() * d.weights().size(1) <= MAX_FOLDED_WEIGHTS) {
                long positions = shape.height() * shape.width();
                INDArray repeated = Nd4j.tile(d.weights(), (int) positions, 1).divi(positions);
                steps.set(i + 1, new Dense(owned(repeated), d.bias(), d.activation()));
                steps.remove(i);
                step = steps.get(i);
            }
            shape = step.output(shape);
        }
        return steps;
    }

    private static IllegalArgumentException unsupported(int index, Layer layer, String why) {
        return new IllegalArgumentException("layer " + index + " (" + layer.getClass().getSimpleName()
                + ") is not supported by the runtime: " + why);
    }

    private static IActivation activationOf(Object conf) {
        IActivation fn = ((BaseLayer) conf).getActivationFn();
        return fn instanceof ActivationIdentity ? null : fn;
    }

    private static INDArray owned(INDArray a) {
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return a.castTo(DataType.FLOAT).dup('c');
        }
    }

    /**
     * Batch norm at inference is y = x * scale + shift per channel. Folded into the step before it when
     * that step is a convolution or dense layer without an activation (exact: scale its weights and bias),
     * else applied in place.
     */
    private static Step batchNorm(Layer layer, int index, Tensor in, List<Step> before) {
        org.deeplearning4j.nn.conf.layers.BatchNormalization conf =
                (org.deeplearning4j.nn.conf.layers.BatchNormalization) layer.conf().getLayer();
        long c = in.channels();
        INDArray mean = owned(layer.getParam("mean")).reshape(c);
        INDArray std;
        if (layer.getParam("log10stdev") != null) {
            // with useLogStd DL4J keeps log10 of the running std and, at inference, still adds eps to its
            // square (measured on a trained student: without it a nearly dead channel is off by ~3)
            INDArray stored = Transforms.pow(constant(c, 10), owned(layer.getParam("log10stdev")).reshape(c), false);
            std = Transforms.sqrt(stored.muli(stored).addi(conf.getEps()), false);
        } else {
            std = Transforms.sqrt(owned(layer.getParam("var")).reshape(c).addi(conf.getEps()), false);
        }
        INDArray gamma = layer.getParam("gamma") != null ? owned(layer.getParam("gamma")).reshape(c)
                : constant(c, conf.getGamma());
        INDArray beta = layer.getParam("beta") != null ? owned(layer.getParam("beta")).reshape(c)
                : constant(c, conf.getBeta());
        INDArray scale = gamma.div(std);
        INDArray shift = beta.sub(mean.mul(scale));
        // no activation: a BatchNormalization layer carries the configuration's default one (sigmoid), which
        // DL4J 1.0.0-M2.1 does not apply (its outputs are exactly the affine map; checked by ConvRuntimeTest)
        if (!before.isEmpty() && before.get(before.size() - 1) instanceof Foldable f && f.activation() == null) {
            before.set(before.size() - 1, f.folded(scale, shift, null));
            return null;
        }
        return new Affine(scale, shift);
    }

    private static INDArray constant(long length, double value) {
        return Nd4j.zeros(DataType.FLOAT, length).addi(value);
    }

    /** A step that changes values but not the shape, overwriting its input. */
    private interface InPlace extends Step {
        @Override
        default Tensor output(Tensor in) {
            return in;
        }

        @Override
        default boolean inPlace() {
            return true;
        }
    }

    /** A step whose output is linear in its weights and bias, so a per-channel affine map folds into it. */
    private interface Foldable extends Step {
        IActivation activation();

        /** This step followed by x * scale + shift per output channel, then {@code then} (null: none); a null
         *  scale leaves the weights as they are and only replaces the activation. */
        Step folded(INDArray scale, INDArray shift, IActivation then);
    }

    /** Convolution (regular or depthwise) through libnd4j's NHWC ops, bias fused. */
    private record Conv(String op, INDArray weights, INDArray bias, int kh, int kw, int sh, int sw, int ph, int pw,
            int dh, int dw, boolean same, long outChannels, IActivation activation) implements Foldable {

        @Override
        public String name() {
            return op;
        }

        static Conv regular(Layer layer, int index, ConvolutionLayer c, Tensor in) {
            int[] k = c.getKernelSize();
            int[] s = c.getStride();
            int[] p = c.getPadding();
            int[] d = c.getDilation();
            // DL4J keeps [out, in, kh, kw]; the NHWC op takes [kh, kw, in, out]
            INDArray w = owned(layer.getParam("W").permute(2, 3, 1, 0));
            long out = w.size(3);
            return new Conv("conv2d", w, bias(layer, out), k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1],
                    mode(index, layer, c.getConvolutionMode()), out, activationOf(c));
        }

        static Conv depthwise(Layer layer, int index, DepthwiseConvolution2D c, Tensor in) {
            int[] k = c.getKernelSize();
            int[] s = c.getStride();
            int[] p = c.getPadding();
            int[] d = c.getDilation();
            INDArray w = owned(layer.getParam("W"));   // [kh, kw, in, multiplier]: the op's own layout
            long out = w.size(2) * w.size(3);
            return new Conv("depthwise_conv2d", w, bias(layer, out), k[0], k[1], s[0], s[1], p[0], p[1], d[0],
                    d[1], mode(index, layer, c.getConvolutionMode()), out, activationOf(c));
        }

        private static INDArray bias(Layer layer, long out) {
            return layer.getParam("b") == null ? null : owned(layer.getParam("b")).reshape(out);
        }

        private static boolean mode(int index, Layer layer, ConvolutionMode mode) {
            if (mode == ConvolutionMode.Same) {
                return true;
            }
            if (mode == ConvolutionMode.Truncate || mode == ConvolutionMode.Strict) {
                return false;
            }
            throw unsupported(index, layer, "convolution mode " + mode);
        }

        @Override
        public Tensor output(Tensor in) {
            return new Tensor(spatial(in.height(), kh, sh, ph, dh, same), spatial(in.width(), kw, sw, pw, dw, same),
                    outChannels);
        }

        @Override
        public void run(INDArray in, INDArray out) {
            bind(in, out).run();
        }

        @Override
        public Runnable bind(INDArray in, INDArray out) {
            DynamicCustomOp.DynamicCustomOpsBuilder b = DynamicCustomOp.builder(op);
            if (bias == null) {
                b.addInputs(in, weights);
            } else {
                b.addInputs(in, weights, bias);
            }
            // kH, kW, sH, sW, pH, pW, dH, dW, same mode, NHWC (1), weights [kh, kw, in, out] (0)
            DynamicCustomOp call = b.addOutputs(out)
                    .addIntegerArguments(kh, kw, sh, sw, ph, pw, dh, dw, same ? 1 : 0, 1, 0).build();
            return () -> {
                Nd4j.exec(call);
                if (activation != null) {
                    activation.getActivation(out, false);
                }
            };
        }

        @Override
        public Step folded(INDArray scale, INDArray shift, IActivation then) {
            if (scale == null) {
                return new Conv(op, weights, bias, kh, kw, sh, sw, ph, pw, dh, dw, same, outChannels, then);
            }
            // the output channel is the last weight axis for both ops ([kh, kw, in, mult] flattens in*mult
            // in the order the depthwise op numbers its outputs)
            INDArray w = weights.dup('c');
            INDArray flat = w.reshape(w.length() / outChannels, outChannels);
            flat.muliRowVector(scale);
            INDArray b = (bias == null ? Nd4j.zeros(DataType.FLOAT, outChannels) : bias).mul(scale).addi(shift);
            return new Conv(op, w, b, kh, kw, sh, sw, ph, pw, dh, dw, same, outChannels, then);
        }
    }

    /** Output length of a convolution or pooling window along one axis, as DL4J computes it. */
    static long spatial(long size, int k, int s, int p, int d, boolean same) {
        if (same) {
            return (size + s - 1) / s;
        }
        long effective = (long) (k - 1) * d + 1;
        return (size + 2L * p - effective) / s + 1;
    }

    /** A dense or output layer: GEMM into the reused buffer, then bias and activation in place. */
    private record Dense(INDArray weights, INDArray bias, IActivation activation) implements Foldable {

        @Override
        public String name() {
            return "dense";
        }

        static Dense of(Layer layer, int index, Tensor in) {
            INDArray w = owned(layer.getParam("W"));   // [in, out]
            if (w.size(0) != in.size()) {
                throw new IllegalArgumentException("layer " + index + " takes " + w.size(0) + " inputs but receives "
                        + in.size());
            }
            if (in.height() * in.width() > 1) {
                // DL4J flattens feature maps channels-first (c, h, w); ours are (h, w, c): reorder the rows
                w = owned(w.reshape(in.channels(), in.height(), in.width(), w.size(1)).permute(1, 2, 0, 3))
                        .reshape(in.size(), w.size(1));
            }
            INDArray b = layer.getParam("b") == null ? null : owned(layer.getParam("b")).reshape(1, w.size(1));
            return new Dense(w, b, activationOf(layer.conf().getLayer()));
        }

        @Override
        public Tensor output(Tensor in) {
            return new Tensor(1, 1, weights.size(1));
        }

        @Override
        public void run(INDArray in, INDArray out) {
            INDArray x = in.reshape(in.size(0), weights.size(0));
            INDArray y = out.reshape(out.size(0), weights.size(1));
            Nd4j.gemm(x, weights, y, false, false, 1.0, 0.0);
            if (bias != null) {
                y.addiRowVector(bias);
            }
            if (activation != null) {
                activation.getActivation(y, false);
            }
        }

        /**
         * This layer applied to x * scale + shift (per channel of its input, channels last): rows scaled,
         * shift @ W added to the bias.
         */
        Dense afterAffine(INDArray scale, INDArray shift) {
            long rows = weights.size(0);
            long repeats = rows / scale.length();
            // flattened channels-last, row r belongs to channel r % channels
            INDArray rowScale = Nd4j.tile(scale.reshape(1, scale.length()), 1, (int) repeats).reshape(rows, 1);
            INDArray rowShift = Nd4j.tile(shift.reshape(1, shift.length()), 1, (int) repeats).reshape(1, rows);
            INDArray b = rowShift.mmul(weights);
            if (bias != null) {
                b.addi(bias);
            }
            return new Dense(weights.mulColumnVector(rowScale), b, activation);
        }

        @Override
        public Step folded(INDArray scale, INDArray shift, IActivation then) {
            if (scale == null) {
                return new Dense(weights, bias, then);
            }
            INDArray w = weights.dup('c').muliRowVector(scale);
            INDArray b = (bias == null ? Nd4j.zeros(DataType.FLOAT, 1, weights.size(1)) : bias).mul(scale)
                    .addiRowVector(shift);
            return new Dense(w, b, then);
        }
    }

    /**
     * A per-channel affine map x * scale + shift (a batch norm that could not be folded), in place.
     * Runs as libnd4j's batchnorm op with mean 0, variance 1 and epsilon 0: one pass over the tensor,
     * measured 1.3 to 2.7 times faster than a broadcast multiply followed by a broadcast add.
     */
    private record Affine(INDArray scale, INDArray shift, INDArray zeros, INDArray ones) implements InPlace {
        Affine(INDArray scale, INDArray shift) {
            this(scale, shift, constant(scale.length(), 0), constant(scale.length(), 1));
        }

        @Override
        public String name() {
            return "batch_norm";
        }

        @Override
        public void run(INDArray in, INDArray out) {
            bind(in, out).run();
        }

        @Override
        public Runnable bind(INDArray in, INDArray out) {
            // inputs x, mean, variance, gamma, beta; epsilon; apply gamma, apply beta, channel axis 3
            DynamicCustomOp call = DynamicCustomOp.builder("batchnorm").addInputs(in, zeros, ones, scale, shift)
                    .addOutputs(in).addFloatingPointArguments(0.0).addIntegerArguments(1, 1, 3).build();
            return () -> Nd4j.exec(call);
        }

        boolean nonNegativeScale() {
            return scale.minNumber().doubleValue() >= 0;
        }
    }

    /** An activation layer, in place. */
    private record Activate(IActivation activation) implements InPlace {
        @Override
        public String name() {
            return "activation";
        }

        @Override
        public void run(INDArray in, INDArray out) {
            activation.getActivation(in, false);
        }
    }

    /** Max or average pooling through libnd4j's NHWC ops. */
    private record Pool(boolean max, int kh, int kw, int sh, int sw, int ph, int pw, boolean same) implements Step {

        @Override
        public String name() {
            return max ? "max_pool" : "avg_pool";
        }

        static Pool of(int index, Layer layer, SubsamplingLayer s) {
            int[] k = s.getKernelSize();
            int[] st = s.getStride();
            int[] p = s.getPadding();
            boolean same = Conv.mode(index, layer, s.getConvolutionMode());
            boolean max = s.getPoolingType() == PoolingType.MAX;
            if (!max && s.getPoolingType() != PoolingType.AVG) {
                throw unsupported(index, layer, s.getPoolingType() + " pooling");
            }
            if (!max && (same || p[0] != 0 || p[1] != 0)) {
                // which cells count in the divisor at a padded border differs between implementations
                throw unsupported(index, layer, "average pooling with padding");
            }
            return new Pool(max, k[0], k[1], st[0], st[1], p[0], p[1], same);
        }

        @Override
        public Tensor output(Tensor in) {
            return new Tensor(spatial(in.height(), kh, sh, ph, 1, same), spatial(in.width(), kw, sw, pw, 1, same),
                    in.channels());
        }

        @Override
        public void run(INDArray in, INDArray out) {
            bind(in, out).run();
        }

        @Override
        public Runnable bind(INDArray in, INDArray out) {
            // kH, kW, sH, sW, pH, pW, dH, dW, same mode, divisor mode (no padding here), NHWC (1)
            DynamicCustomOp call = DynamicCustomOp.builder(max ? "maxpool2d" : "avgpool2d").addInputs(in)
                    .addOutputs(out).addIntegerArguments(kh, kw, sh, sw, ph, pw, 1, 1, same ? 1 : 0, 0, 1).build();
            return () -> Nd4j.exec(call);
        }
    }

    /** Global average or max pooling over height and width. */
    private record GlobalPool(boolean average) implements Step {
        @Override
        public String name() {
            return average ? "global_avg_pool" : "global_max_pool";
        }

        @Override
        public Tensor output(Tensor in) {
            return new Tensor(1, 1, in.channels());
        }

        @Override
        public void run(INDArray in, INDArray out) {
            INDArray z = out.reshape(out.size(0), out.size(3));
            Nd4j.exec(average ? new Mean(in, z, 1, 2) : new Max(in, z, 1, 2));
        }
    }

    /** The intermediate buffers for one batch size. */
    /** Buffers for one batch size, and every step but the first bound to them (the first reads the caller's array). */
    private record Buffers(long batch, INDArray input, List<INDArray> outputs, List<Runnable> bound) {
    }

    private Buffers buffers(long batch) {
        Buffers kept = buffers.get(batch);
        if (kept != null) {
            return kept;
        }
        Buffers buffers;
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            INDArray in = Nd4j.create(DataType.FLOAT, input.batch(batch), 'c');
            List<INDArray> outs = new ArrayList<>();
            Tensor shape = input;
            INDArray current = in;
            for (Step step : steps) {
                shape = step.output(shape);
                if (!step.inPlace()) {
                    current = Nd4j.create(DataType.FLOAT, shape.batch(batch), 'c');
                }
                outs.add(current);
            }
            List<Runnable> bound = new ArrayList<>();
            bound.add(null);
            for (int i = 1; i < steps.size(); i++) {
                bound.add(steps.get(i).bind(outs.get(i - 1), steps.get(i).inPlace() ? null : outs.get(i)));
            }
            buffers = new Buffers(batch, in, outs, bound);
        }
        this.buffers.put(batch, buffers);
        return buffers;
    }

    public int inputSize() {
        return inputSize;
    }

    public int outputSize() {
        return outputSize;
    }

    /** The compiled steps in order (batch norm folded into the layer before it does not appear). */
    public List<String> steps() {
        return steps.stream().map(Step::name).toList();
    }

    /**
     * The network's outputs for {@code features} ([examples, inputSize], as DL4J's {@code output()}
     * takes them): a new [examples, outputSize] array, detached from the runtime's buffers.
     */
    public synchronized INDArray output(INDArray features) {
        return run(features, null);
    }

    /**
     * Median wall-clock milliseconds of each step (in {@link #steps()} order) over {@code repeats} runs on
     * {@code features}, after one untimed run that sizes the buffers: where a model's inference time goes.
     */
    public synchronized double[] stepMillis(INDArray features, int repeats) {
        run(features, null);
        double[][] ms = new double[steps.size()][repeats];
        for (int r = 0; r < repeats; r++) {
            long[] nanos = new long[steps.size()];
            run(features, nanos);
            for (int i = 0; i < nanos.length; i++) {
                ms[i][r] = nanos[i] / 1e6;
            }
        }
        double[] medians = new double[steps.size()];
        for (int i = 0; i < medians.length; i++) {
            java.util.Arrays.sort(ms[i]);
            medians[i] = ms[i][repeats / 2];
        }
        return medians;
    }

    private INDArray run(INDArray features, long[] stepNanos) {
        if (features.rank() != 2 || features.size(1) != inputSize) {
            throw new IllegalArgumentException("expected [examples, " + inputSize + "] features, got "
                    + java.util.Arrays.toString(features.shape()));
        }
        long n = features.size(0);
        Buffers b = buffers(n);
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            INDArray x = features.dataType() == DataType.FLOAT ? features : features.castTo(DataType.FLOAT);
            INDArray current;
            if (permuteInput) {
                b.input().assign(x.reshape('c', n, input.channels(), input.height(), input.width())
                        .permute(0, 2, 3, 1));
                current = b.input();
            } else if (x.ordering() == 'c' && x.elementWiseStride() == 1 && !steps.get(0).inPlace()) {
                current = x.reshape('c', b.input().shape());   // a view: the first step only reads it
            } else {
                b.input().assign(x.reshape('c', b.input().shape()));
                current = b.input();
            }
            for (int i = 0; i < steps.size(); i++) {
                Step step = steps.get(i);
                long started = System.nanoTime();
                if (i == 0) {
                    step.run(current, step.inPlace() ? null : b.outputs().get(0));
                } else {
                    b.bound().get(i).run();
                }
                if (stepNanos != null) {
                    stepNanos[i] = System.nanoTime() - started;
                }
            }
            return b.outputs().get(steps.size() - 1).reshape(n, outputSize).dup();
        }
    }
}
