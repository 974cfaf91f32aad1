package dev.distill.core.quant;

import dev.distill.core.io.ModelFiles;
import dev.distill.runtime.ActivationFunction;
import dev.distill.runtime.Int8Range;
import dev.distill.runtime.ModelDescription;
import dev.distill.runtime.Op;
import dev.distill.runtime.Preprocessing;
import dev.distill.runtime.QuantizedTensor;
import dev.distill.runtime.Window;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import dev.distill.models.network.Network;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationELU;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.activations.impl.ActivationSwish;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A trained DL4J network (and what quantization made of it) in the runtime's terms: one
 * {@link ModelDescription} op per layer that computes something (dropout disappears), weights in the
 * layout DL4J keeps them, quantized tensors as the quantizer coded them, batch norm as a per-channel
 * scale and shift that {@link ModelDescription#folded()} then folds into the conv or dense layer before it
 * where that is exact. The output layer is a softmax, as the model is shipped.
 */
public final class Dl4jToRuntime {

    private Dl4jToRuntime() {
    }

    /**
     * @param quantized   tensors by key ({@code "0_W"}) as the packed file stores them; other parameters float32
     * @param activations calibrated input ranges of weighted layers (int8 path); empty for none
     * @throws IllegalArgumentException naming the first layer the runtime cannot run
     */
    public static ModelDescription describe(MultiLayerNetwork network, List<QuantizedTensor> quantized,
            List<ActivationCalibration.Range> activations, Preprocessing preprocessing, List<String> classNames) {
        MultiLayerNetwork net = ModelFiles.withCrossEntropyOutput(network);
        Map<String, QuantizedTensor> byKey = new HashMap<>();
        quantized.forEach(t -> byKey.put(t.key(), t));
        Map<Integer, ActivationCalibration.Range> ranges = new HashMap<>();
        activations.forEach(r -> ranges.put(r.layer(), r));
        Layer[] layers = net.getLayers();
        if (layers.length == 0) {
            throw new IllegalArgumentException("the network has no layers");
        }
        int[] input = inputShape(net);
        List<Op> ops = new ArrayList<>();
        for (int i = 0; i < layers.length; i++) {
            InputPreProcessor pre = net.getLayerWiseConfigurations().getInputPreProcess(i);
            if (i > 0 && pre != null && !(pre instanceof CnnToFeedForwardPreProcessor)) {
                throw unsupported(i, layers[i], "input preprocessor " + pre.getClass().getSimpleName());
            }
            if (layers[i].conf().getLayer() instanceof SeparableConvolution2D) {
                ops.addAll(separable(layers[i], String.valueOf(i), byKey));   // float path only: no input range kept
                continue;
            }
            Op op = op(layers[i], i, byKey);
            if (op == null) {
                continue;
            }
            ActivationCalibration.Range r = ranges.get(i);
            ops.add(r == null ? op : op.withInputRange(new Int8Range(r.scale(), r.zeroPoint())));
        }
        return new ModelDescription(input, preprocessing, classNames, ops).folded();
    }

    /**
     * A DL4J graph (the zoo's residual, concat, group convolution and shuffle blocks are DL4J's own add,
     * merge and subset vertices) as ops with explicit inputs, in topological order; float32 only. Tensor
     * keys are {@code <vertex>_<param>}.
     *
     * @throws IllegalArgumentException naming the first vertex the runtime cannot run
     */
    public static ModelDescription describe(Network.Graph network, Preprocessing preprocessing,
            List<String> classNames) {
        return describe(network, List.of(), preprocessing, classNames);
    }

    /**
     * As {@link #describe(Network.Graph, Preprocessing, List)}, with the tensors a post-training quantizer
     * coded (by key, {@code <vertex>_<param>}); other parameters float32. Graphs have no int8 path: their
     * quantized weights are decoded at load time and run on the float path.
     */
    public static ModelDescription describe(Network.Graph network, List<QuantizedTensor> quantized,
            Preprocessing preprocessing, List<String> classNames) {
        ComputationGraph g = network.withOutput(new ActivationSoftmax(), new LossMCXENT()).graph();
        org.deeplearning4j.nn.conf.ComputationGraphConfiguration conf = g.getConfiguration();
        if (conf.getNetworkInputs().size() != 1 || conf.getNetworkOutputs().size() != 1) {
            throw new IllegalArgumentException("the graph has " + conf.getNetworkInputs().size() + " inputs and "
                    + conf.getNetworkOutputs().size() + " outputs; the runtime runs one of each");
        }
        Map<String, Integer> valueOf = new HashMap<>();
        valueOf.put(conf.getNetworkInputs().get(0), 0);
        int[] input = null;
        List<Op> ops = new ArrayList<>();
        Map<String, QuantizedTensor> byKey = new HashMap<>();
        quantized.forEach(t -> byKey.put(t.key(), t));
        for (int index : g.topologicalSortOrder()) {
            GraphVertex v = g.getVertices()[index];
            String name = v.getVertexName();
            if (v.isInputVertex()) {
                continue;
            }
            List<String> from = conf.getVertexInputs().get(name);
            int[] in = new int[from.size()];
            for (int k = 0; k < in.length; k++) {
                Integer value = valueOf.get(from.get(k));
                if (value == null) {
                    throw new IllegalArgumentException("vertex " + name + " reads " + from.get(k) + " before it is computed");
                }
                in[k] = value;
            }
            org.deeplearning4j.nn.conf.graph.GraphVertex vc = conf.getVertices().get(name);
            if (vc instanceof org.deeplearning4j.nn.conf.graph.PreprocessorVertex p) {
                if (p.getPreProcessor() instanceof FeedForwardToCnnPreProcessor f && in[0] == 0) {
                    input = new int[] {(int) f.getNumChannels(), (int) f.getInputHeight(), (int) f.getInputWidth()};
                } else if (!(p.getPreProcessor() instanceof CnnToFeedForwardPreProcessor)) {
                    throw new IllegalArgumentException("vertex " + name + ": preprocessor "
                            + p.getPreProcessor().getClass().getSimpleName() + " cannot run on distill-runtime");
                }
                valueOf.put(name, in[0]);   // a reshape: channels-first values stay as they are
                continue;
            }
            List<Op> made = new ArrayList<>();
            if (vc instanceof org.deeplearning4j.nn.conf.graph.ElementWiseVertex e) {
                if (e.getOp() != org.deeplearning4j.nn.conf.graph.ElementWiseVertex.Op.Add) {
                    throw new IllegalArgumentException("vertex " + name + ": element-wise " + e.getOp()
                            + " cannot run on distill-runtime (add only)");
                }
                made.add(Op.add());
            } else if (vc instanceof org.deeplearning4j.nn.conf.graph.MergeVertex) {
                made.add(Op.concat());
            } else if (vc instanceof org.deeplearning4j.nn.conf.graph.SubsetVertex sub) {
                made.add(Op.subset(sub.getFrom(), sub.getTo()));
            } else if (v.hasLayer()) {
                Layer layer = v.getLayer();
                if (layer.conf().getLayer() instanceof SeparableConvolution2D) {
                    made.addAll(separable(layer, name, byKey));
                } else {
                    Op op = op(layer, name, byKey);
                    if (op == null) {
                        valueOf.put(name, in[0]);   // dropout
                        continue;
                    }
                    made.add(op);
                }
            } else {
                throw new IllegalArgumentException("vertex " + name + " (" + vc.getClass().getSimpleName()
                        + ") cannot run on distill-runtime");
            }
            for (int k = 0; k < made.size(); k++) {
                ops.add(made.get(k).withInputs(k == 0 ? in : new int[] {ops.size()}));
            }
            valueOf.put(name, ops.size());
        }
        if (valueOf.get(conf.getNetworkOutputs().get(0)) != ops.size()) {
            throw new IllegalArgumentException("the graph's output is not its last vertex");
        }
        if (input == null) {
            long features = ((FeedForwardLayer) g.getLayers()[0].conf().getLayer()).getNIn();
            input = new int[] {(int) features, 1, 1};
        }
        return new ModelDescription(input, preprocessing, classNames, ops).folded();
    }

    /** (channels, height, width) of the network's input. */
    private static int[] inputShape(MultiLayerNetwork net) {
        InputPreProcessor pre = net.getLayerWiseConfigurations().getInputPreProcess(0);
        if (pre instanceof FeedForwardToCnnPreProcessor) {
            FeedForwardToCnnPreProcessor p = (FeedForwardToCnnPreProcessor) pre;
            return new int[] {(int) p.getNumChannels(), (int) p.getInputHeight(), (int) p.getInputWidth()};
        }
        Object first = net.getLayer(0).conf().getLayer();
        if (pre == null && first instanceof FeedForwardLayer && !(first instanceof ConvolutionLayer)) {
            return new int[] {(int) ((FeedForwardLayer) first).getNIn(), 1, 1};
        }
        throw new IllegalArgumentException("layer 0: the runtime takes networks fed flat feature vectors (dense"
                + " first, or an image through DL4J's feed-forward-to-CNN preprocessor)");
    }

    private static Op op(Layer layer, int i, Map<String, QuantizedTensor> quantized) {
        return op(layer, String.valueOf(i), quantized);
    }

    private static Op op(Layer layer, String i, Map<String, QuantizedTensor> quantized) {
        Object conf = layer.conf().getLayer();
        if (layer instanceof org.deeplearning4j.nn.layers.DropoutLayer) {
            return null;
        }
        if (conf instanceof DepthwiseConvolution2D) {
            DepthwiseConvolution2D c = (DepthwiseConvolution2D) conf;
            return Op.depthwiseConv2d(tensor(layer, i, "W", quantized), bias(layer, i, quantized),
                    window(c.getKernelSize(), c.getStride(), c.getPadding(), c.getDilation(), c.getConvolutionMode(),
                            i, layer), activation(c.getActivationFn(), i, layer), alpha(c.getActivationFn()));
        }
        if (conf instanceof ConvolutionLayer && conf.getClass() == ConvolutionLayer.class) {
            ConvolutionLayer c = (ConvolutionLayer) conf;
            return Op.conv2d(tensor(layer, i, "W", quantized), bias(layer, i, quantized),
                    window(c.getKernelSize(), c.getStride(), c.getPadding(), c.getDilation(), c.getConvolutionMode(),
                            i, layer), activation(c.getActivationFn(), i, layer), alpha(c.getActivationFn()));
        }
        if (conf instanceof SubsamplingLayer && conf.getClass() == SubsamplingLayer.class) {
            SubsamplingLayer s = (SubsamplingLayer) conf;
            if (s.getPoolingType() != PoolingType.MAX && s.getPoolingType() != PoolingType.AVG) {
                throw unsupported(i, layer, s.getPoolingType() + " pooling");
            }
            return Op.pool(s.getPoolingType() == PoolingType.MAX, window(s.getKernelSize(), s.getStride(),
                    s.getPadding(), s.getDilation(), s.getConvolutionMode(), i, layer));
        }
        if (conf instanceof GlobalPoolingLayer) {
            PoolingType type = ((GlobalPoolingLayer) conf).getPoolingType();
            if (type != PoolingType.AVG && type != PoolingType.MAX) {
                throw unsupported(i, layer, type + " pooling");
            }
            return Op.globalPool(type == PoolingType.MAX);
        }
        if (conf instanceof BatchNormalization) {
            return batchNorm(layer, (BatchNormalization) conf);
        }
        if (conf instanceof org.deeplearning4j.nn.conf.layers.ActivationLayer) {
            IActivation fn = ((org.deeplearning4j.nn.conf.layers.ActivationLayer) conf).getActivationFn();
            return Op.activation(activation(fn, i, layer), alpha(fn));
        }
        if ((conf instanceof org.deeplearning4j.nn.conf.layers.DenseLayer
                || conf instanceof org.deeplearning4j.nn.conf.layers.OutputLayer) && layer.getParam("W") != null) {
            IActivation fn = ((BaseLayer) conf).getActivationFn();
            return Op.dense(tensor(layer, i, "W", quantized), bias(layer, i, quantized), activation(fn, i, layer),
                    alpha(fn));
        }
        throw unsupported(i, layer, "no runtime op for this layer type");
    }

    /**
     * A separable convolution as the two ops it is: a depthwise convolution (DL4J's depthwise weights
     * [multiplier, in, kh, kw] reordered to the runtime's [kh, kw, in, multiplier], decoded to float if they
     * were quantized) and a 1x1 convolution (pointwise weights [out, in × multiplier, 1, 1], as stored) with
     * the bias and the activation.
     */
    private static List<Op> separable(Layer layer, String i, Map<String, QuantizedTensor> quantized) {
        SeparableConvolution2D c = (SeparableConvolution2D) layer.conf().getLayer();
        QuantizedTensor dw = tensor(layer, i, "W", quantized);
        long[] s = dw.shape();
        int mult = (int) s[0];
        int in = (int) s[1];
        int kh = (int) s[2];
        int kw = (int) s[3];
        float[] v = dw.dequantize();
        float[] reordered = new float[v.length];
        for (int m = 0; m < mult; m++) {
            for (int ch = 0; ch < in; ch++) {
                for (int y = 0; y < kh; y++) {
                    for (int x = 0; x < kw; x++) {
                        reordered[((y * kw + x) * in + ch) * mult + m] = v[((m * in + ch) * kh + y) * kw + x];
                    }
                }
            }
        }
        QuantizedTensor depthwise = QuantizedTensor.ofFloats(i + "_W", new long[] {kh, kw, in, mult}, reordered);
        Window window = window(c.getKernelSize(), c.getStride(), c.getPadding(), c.getDilation(),
                c.getConvolutionMode(), i, layer);
        return List.of(Op.depthwiseConv2d(depthwise, null, window, ActivationFunction.IDENTITY, 0),
                Op.conv2d(tensor(layer, i, "pW", quantized), bias(layer, i, quantized),
                        new Window(1, 1, 1, 1, 0, 0, 1, 1, false), activation(c.getActivationFn(), i, layer),
                        alpha(c.getActivationFn())));
    }

    private static QuantizedTensor tensor(Layer layer, String i, String param, Map<String, QuantizedTensor> quantized) {
        String key = i + "_" + param;
        INDArray p = layer.getParam(param);
        QuantizedTensor t = quantized.get(key);
        if (t != null) {
            if (!java.util.Arrays.equals(t.shape(), p.shape())) {
                throw new IllegalArgumentException("tensor " + key + " has shape " + java.util.Arrays.toString(t.shape())
                        + ", the network's is " + java.util.Arrays.toString(p.shape()));
            }
            return t;
        }
        return QuantizedTensor.ofFloats(key, p.shape(), PackedModelFile.values(p));
    }

    private static QuantizedTensor bias(Layer layer, String i, Map<String, QuantizedTensor> quantized) {
        // the first half of a low-rank pair has no bias
        return layer.getParam("b") == null ? null : tensor(layer, i, "b", quantized);
    }

    /**
     * Batch norm at inference: y = x × scale + shift per channel, scale = γ / √(σ² + ε), shift = β − μ × scale.
     * With useLogStd DL4J keeps log10 of the running std and at inference still adds ε to its square.
     */
    private static Op batchNorm(Layer layer, BatchNormalization conf) {
        float[] mean = PackedModelFile.values(layer.getParam("mean"));
        int c = mean.length;
        float[] std = new float[c];
        if (layer.getParam("log10stdev") != null) {
            float[] log = PackedModelFile.values(layer.getParam("log10stdev"));
            for (int k = 0; k < c; k++) {
                double s = Math.pow(10, log[k]);
                std[k] = (float) Math.sqrt(s * s + conf.getEps());
            }
        } else {
            float[] var = PackedModelFile.values(layer.getParam("var"));
            for (int k = 0; k < c; k++) {
                std[k] = (float) Math.sqrt(var[k] + conf.getEps());
            }
        }
        float[] gamma = layer.getParam("gamma") != null ? PackedModelFile.values(layer.getParam("gamma")) : null;
        float[] beta = layer.getParam("beta") != null ? PackedModelFile.values(layer.getParam("beta")) : null;
        float[] scale = new float[c];
        float[] shift = new float[c];
        for (int k = 0; k < c; k++) {
            float g = gamma != null ? gamma[k] : (float) conf.getGamma();
            float b = beta != null ? beta[k] : (float) conf.getBeta();
            scale[k] = g / std[k];
            shift[k] = b - mean[k] * scale[k];
        }
        // no activation: a BatchNormalization layer carries the configuration's default one, which DL4J
        // 1.0.0-M2.1 does not apply at inference
        return Op.scaleShift(scale, shift);
    }

    private static Window window(int[] k, int[] s, int[] p, int[] d, ConvolutionMode mode, String i, Layer layer) {
        boolean same;
        if (mode == ConvolutionMode.Same) {
            same = true;
        } else if (mode == ConvolutionMode.Truncate || mode == ConvolutionMode.Strict) {
            same = false;
        } else {
            throw unsupported(i, layer, "convolution mode " + mode);
        }
        int dh = d == null ? 1 : d[0];
        int dw = d == null ? 1 : d[1];
        return new Window(k[0], k[1], s[0], s[1], same ? 0 : p[0], same ? 0 : p[1], dh, dw, same);
    }

    private static float alpha(IActivation fn) {
        if (fn instanceof ActivationLReLU) {
            return (float) ((ActivationLReLU) fn).getAlpha();
        }
        if (fn instanceof ActivationELU) {
            return (float) ((ActivationELU) fn).getAlpha();
        }
        return 0;
    }

    private static ActivationFunction activation(IActivation fn, String i, Layer layer) {
        if (fn == null || fn instanceof ActivationIdentity) {
            return ActivationFunction.IDENTITY;
        } else if (fn instanceof ActivationReLU6) {
            return ActivationFunction.RELU6;
        } else if (fn instanceof ActivationReLU) {
            ActivationReLU r = (ActivationReLU) fn;
            if (zero(r.getMax()) && zero(r.getThreshold()) && zero(r.getNegativeSlope())) {
                return ActivationFunction.RELU;
            }
        } else if (fn instanceof ActivationLReLU) {
            return ActivationFunction.LEAKYRELU;
        } else if (fn instanceof ActivationELU) {
            return ActivationFunction.ELU;
        } else if (fn instanceof ActivationTanH) {
            return ActivationFunction.TANH;
        } else if (fn instanceof ActivationSigmoid) {
            return ActivationFunction.SIGMOID;
        } else if (fn instanceof ActivationSwish) {
            return ActivationFunction.SWISH;
        } else if (fn instanceof ActivationSoftmax) {
            return ActivationFunction.SOFTMAX;
        }
        throw unsupported(i, layer, "activation " + fn);
    }

    private static boolean zero(Double value) {
        return value == null || value == 0;
    }

    private static IllegalArgumentException unsupported(int i, Layer layer, String why) {
        return unsupported(String.valueOf(i), layer, why);
    }

    private static IllegalArgumentException unsupported(String i, Layer layer, String why) {
        return new IllegalArgumentException("layer " + i + " (" + layer.getClass().getSimpleName()
                + ") cannot run on distill-runtime: " + why);
    }
}
