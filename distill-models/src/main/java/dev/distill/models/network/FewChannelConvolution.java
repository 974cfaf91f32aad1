package dev.distill.models.network;

import dev.distill.models.nd4j.JavaArrays;
import java.util.Arrays;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.ConvolutionHelper;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A convolution over few input channels (a network's first layer over grey or colour pixels), computed in Java
 * over the same parameter and gradient arrays as DL4J's layer, forward and backward.
 *
 * <p>Why: oneDNN computes such a layer several times slower per multiply-add than the wide ones behind it. For the
 * Fashion-MNIST teacher's 1 -> 32 channel 3x3 layer (batch 64, one thread) it took 4.3 ms forward and 10.5 ms
 * backward, where the 32 -> 64 layer, sixteen times the arithmetic, took 8.6 and 11.5; with the ReLU's backward op
 * and DL4J's copy of the pre-activations the first layer was about a third of the teacher's step. Here the forward
 * pass is a sum of shifted input planes scaled by the weights, the ReLU is applied in the same pass, and the
 * backward pass masks the incoming gradient by the kept activations (ReLU's output is positive exactly where its
 * input is) and accumulates the weight gradient position by position; every hot loop walks arrays at the same
 * index, which HotSpot turns into vector instructions (a loop reading one array at an offset from another it
 * writes is left scalar, 5-8x slower).
 *
 * <p>The results are DL4J's up to the order of the sums (float rounding), and the same bits on every run. The
 * input's gradient is computed when DL4J hands it on (a preprocessor reshapes it, or the layer is not the first);
 * as the first layer without a preprocessor it is not, as DL4J drops it there. Layers with dropout, weight noise,
 * masks, strides, dilation, another activation than ReLU or identity, NHWC data, or more than
 * {@value #MAX_INPUT_CHANNELS} input channels keep DL4J's computation, as does a backward pass without the forward
 * pass that should precede it. The network's configuration, files and parameters do not change: only the layer
 * objects that compute are replaced.
 */
public final class FewChannelConvolution extends ConvolutionLayer {

    /** The widest input this layer takes over: beyond a few channels oneDNN's kernels are the faster. */
    static final int MAX_INPUT_CHANNELS = 4;

    private final boolean relu;
    private final boolean inputGradientUnused;
    private final int inChannels;
    private final int outChannels;
    private final int kernelHeight;
    private final int kernelWidth;
    private final int padTop;
    private final int padLeft;
    private final int padBottom;
    private final int padRight;

    /**
     * The input of the last training pass (null after any other pass), and its values and activations (batch x
     * channels x height x width, as Java arrays).
     */
    private INDArray trainingInput;
    private float[] inputValues = new float[0];
    private float[] activations = new float[0];
    /** Working arrays, reused from step to step (a layer object serves one thread at a time). */
    private float[][] columns = new float[0][];
    private float[] plane = new float[0];
    private float[] gradientPlane = new float[0];
    private float[] incoming = new float[0];
    private float[][] weightSums = new float[0][];
    private float[][] biasSums = new float[0][];
    private float[][] inputGradientColumns = new float[0][];
    private float[] inputGradient = new float[0];
    /** Backward passes computed here (the rest were DL4J's own). */
    private long javaBackwardPasses;

    private FewChannelConvolution(NeuralNetConfiguration conf, DataType dataType, boolean inputGradientUnused) {
        super(conf, dataType);
        org.deeplearning4j.nn.conf.layers.ConvolutionLayer c = layerConf();
        this.relu = c.getActivationFn() instanceof ActivationReLU;
        this.inputGradientUnused = inputGradientUnused;
        this.inChannels = (int) c.getNIn();
        this.outChannels = (int) c.getNOut();
        this.kernelHeight = c.getKernelSize()[0];
        this.kernelWidth = c.getKernelSize()[1];
        if (c.getConvolutionMode() == ConvolutionMode.Same) {
            // stride 1: the output keeps the input's size; odd kernels pad evenly
            padTop = padBottom = (kernelHeight - 1) / 2;
            padLeft = padRight = (kernelWidth - 1) / 2;
        } else {
            padTop = padBottom = c.getPadding()[0];
            padLeft = padRight = c.getPadding()[1];
        }
    }

    /**
     * Replaces each of {@code net}'s qualifying convolution layers (a sequential network's; a graph is left alone)
     * by one computing as described above, over the same parameter and gradient arrays, with the layer's oneDNN
     * helper kept for the cases it hands back to DL4J. Calling it again changes nothing.
     *
     * @return the number of convolution layers that now compute this way
     */
    public static int install(Network net) {
        return LayerObjects.replace(net, FewChannelConvolution.class, (layers, i, inputGradientUnused) -> {
            Layer layer = layers[i];
            if (layer.getClass() != ConvolutionLayer.class || !qualifies(layer)) {
                return null;
            }
            FewChannelConvolution java = new FewChannelConvolution(layer.conf(),
                    layer.getParam(ConvolutionParamInitializer.WEIGHT_KEY).dataType(), inputGradientUnused);
            java.helper = (ConvolutionHelper) ((ConvolutionLayer) layer).getHelper();
            java.setCacheMode(layer.conf().getCacheMode());
            return java;
        });
    }

    private static boolean qualifies(Layer layer) {
        org.deeplearning4j.nn.conf.layers.ConvolutionLayer c =
                (org.deeplearning4j.nn.conf.layers.ConvolutionLayer) layer.conf().getLayer();
        int[] kernel = c.getKernelSize();
        boolean evenSame = c.getConvolutionMode() == ConvolutionMode.Same && (kernel[0] % 2 == 0 || kernel[1] % 2 == 0);
        return c.getNIn() <= MAX_INPUT_CHANNELS && layer.getParam(ConvolutionParamInitializer.WEIGHT_KEY).dataType()
                == DataType.FLOAT && LeanDenseBackprop.reluOrIdentity(c.getActivationFn())
                && c.getIDropout() == null && c.getWeightNoise() == null && c.getCnn2dDataFormat() == CNN2DFormat.NCHW
                && Arrays.stream(c.getStride()).allMatch(v -> v == 1) && Arrays.stream(c.getDilation()).allMatch(v -> v == 1)
                && (c.getConvolutionMode() == ConvolutionMode.Same || c.getConvolutionMode() == ConvolutionMode.Truncate
                        || c.getConvolutionMode() == ConvolutionMode.Strict)
                && !evenSame;
    }

    /** How many backward passes were computed here. */
    long javaBackwardPasses() {
        return javaBackwardPasses;
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        trainingInput = null;
        if (input == null || input.rank() != 4 || input.dataType() != DataType.FLOAT || maskArray != null
                || input.size(1) != inChannels) {
            return super.activate(training, workspaceMgr);
        }
        int batch = (int) input.size(0);
        int height = (int) input.size(2);
        int width = (int) input.size(3);
        int outHeight = height + padTop + padBottom - kernelHeight + 1;
        int outWidth = width + padLeft + padRight - kernelWidth + 1;
        int outPlane = outHeight * outWidth;
        int taps = inChannels * kernelHeight * kernelWidth;
        inputValues = JavaArrays.read(input, inputValues, batch * inChannels * height * width);
        float[] weights = JavaArrays.read(getParam(ConvolutionParamInitializer.WEIGHT_KEY), null, outChannels * taps);
        float[] bias = hasBias() ? JavaArrays.read(getParam(ConvolutionParamInitializer.BIAS_KEY), null, outChannels)
                : new float[outChannels];
        columns = JavaArrays.planes(columns, taps, outPlane);
        plane = JavaArrays.sized(plane, outPlane);
        activations = JavaArrays.sized(activations, batch * outChannels * outPlane);
        for (int n = 0; n < batch; n++) {
            toColumns(n, height, width, outHeight, outWidth);
            for (int o = 0; o < outChannels; o++) {
                float[] sum = plane;
                Arrays.fill(sum, 0, outPlane, bias[o]);
                for (int t = 0; t < taps; t++) {
                    float w = weights[o * taps + t];
                    float[] column = columns[t];
                    for (int p = 0; p < outPlane; p++) {
                        sum[p] += w * column[p];
                    }
                }
                if (relu) {
                    for (int p = 0; p < outPlane; p++) {
                        sum[p] = Math.max(sum[p], 0f);
                    }
                }
                System.arraycopy(sum, 0, activations, (n * outChannels + o) * outPlane, outPlane);
            }
        }
        INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT,
                new long[] {batch, outChannels, outHeight, outWidth}, 'c');
        JavaArrays.write(activations, out);
        trainingInput = training ? input : null;
        return out;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        boolean kept = trainingInput != null && trainingInput == input;
        trainingInput = null;
        if (!kept) {
            return super.backpropGradient(epsilon, workspaceMgr);
        }
        javaBackwardPasses++;
        int batch = (int) input.size(0);
        int height = (int) input.size(2);
        int width = (int) input.size(3);
        int outHeight = (int) epsilon.size(2);
        int outWidth = (int) epsilon.size(3);
        int outPlane = outHeight * outWidth;
        int taps = inChannels * kernelHeight * kernelWidth;
        boolean wantInput = !inputGradientUnused;
        // the weights only carry the gradient back to the input
        float[] weights = wantInput
                ? JavaArrays.read(getParam(ConvolutionParamInitializer.WEIGHT_KEY), null, outChannels * taps) : null;
        incoming = JavaArrays.read(epsilon.castTo(DataType.FLOAT), incoming, batch * outChannels * outPlane);
        weightSums = JavaArrays.planes(weightSums, outChannels * taps, outPlane);
        biasSums = JavaArrays.planes(biasSums, outChannels, outPlane);
        for (float[] sums : weightSums) {
            Arrays.fill(sums, 0, outPlane, 0f);
        }
        for (float[] sums : biasSums) {
            Arrays.fill(sums, 0, outPlane, 0f);
        }
        if (wantInput) {
            inputGradientColumns = JavaArrays.planes(inputGradientColumns, taps, outPlane);
            inputGradient = JavaArrays.sized(inputGradient, batch * inChannels * height * width);
            Arrays.fill(inputGradient, 0, batch * inChannels * height * width, 0f);
        }
        plane = JavaArrays.sized(plane, outPlane);
        gradientPlane = JavaArrays.sized(gradientPlane, outPlane);
        for (int n = 0; n < batch; n++) {
            toColumns(n, height, width, outHeight, outWidth);
            if (wantInput) {
                for (float[] g : inputGradientColumns) {
                    Arrays.fill(g, 0, outPlane, 0f);
                }
            }
            for (int o = 0; o < outChannels; o++) {
                int at = (n * outChannels + o) * outPlane;
                float[] delta = gradientPlane;
                System.arraycopy(incoming, at, delta, 0, outPlane);
                if (relu) {
                    float[] active = plane;
                    System.arraycopy(activations, at, active, 0, outPlane);
                    for (int p = 0; p < outPlane; p++) {
                        // 1 where the activation is positive, 0 where it is +0: a multiply HotSpot vectorises,
                        // where a conditional stays scalar (2^149 takes the smallest positive float to >= 1)
                        delta[p] *= Math.min(active[p] * 0x1p100f * 0x1p49f, 1f);
                    }
                }
                float[] biasSum = biasSums[o];
                for (int p = 0; p < outPlane; p++) {
                    biasSum[p] += delta[p];
                }
                for (int t = 0; t < taps; t++) {
                    float[] column = columns[t];
                    float[] sum = weightSums[o * taps + t];
                    for (int p = 0; p < outPlane; p++) {
                        sum[p] += delta[p] * column[p];
                    }
                }
                if (wantInput) {
                    for (int t = 0; t < taps; t++) {
                        float w = weights[o * taps + t];
                        float[] g = inputGradientColumns[t];
                        for (int p = 0; p < outPlane; p++) {
                            g[p] += w * delta[p];
                        }
                    }
                }
            }
            if (wantInput) {
                fromColumns(n, height, width, outHeight, outWidth);
            }
        }
        float[] weightGradient = new float[outChannels * taps];
        for (int q = 0; q < weightGradient.length; q++) {
            weightGradient[q] = total(weightSums[q], outPlane);
        }
        Gradient gradient = new DefaultGradient();
        if (hasBias()) {
            float[] biasGradient = new float[outChannels];
            for (int o = 0; o < outChannels; o++) {
                biasGradient[o] = total(biasSums[o], outPlane);
            }
            INDArray biasView = gradientViews.get(ConvolutionParamInitializer.BIAS_KEY);
            JavaArrays.write(biasGradient, biasView);
            gradient.gradientForVariable().put(ConvolutionParamInitializer.BIAS_KEY, biasView);
        }
        INDArray weightView = gradientViews.get(ConvolutionParamInitializer.WEIGHT_KEY);
        JavaArrays.write(weightGradient, weightView);
        gradient.gradientForVariable().put(ConvolutionParamInitializer.WEIGHT_KEY, weightView);
        INDArray epsilonNext = null;
        if (wantInput) {
            epsilonNext = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT,
                    new long[] {batch, inChannels, height, width}, 'c');
            JavaArrays.write(inputGradient, epsilonNext);
        }
        weightNoiseParams.clear();
        return new Pair<>(gradient, epsilonNext);
    }

    /** Example {@code n}'s input as one plane per kernel tap: the input shifted by the tap, zero outside. */
    private void toColumns(int n, int height, int width, int outHeight, int outWidth) {
        int outPlane = outHeight * outWidth;
        for (int c = 0; c < inChannels; c++) {
            int image = (n * inChannels + c) * height * width;
            for (int ky = 0; ky < kernelHeight; ky++) {
                for (int kx = 0; kx < kernelWidth; kx++) {
                    float[] column = columns[(c * kernelHeight + ky) * kernelWidth + kx];
                    Arrays.fill(column, 0, outPlane, 0f);
                    int dy = ky - padTop;
                    int dx = kx - padLeft;
                    int x0 = Math.max(0, -dx);
                    int x1 = Math.min(outWidth, width - dx);
                    if (x1 <= x0) {
                        continue;
                    }
                    for (int y = Math.max(0, -dy); y < Math.min(outHeight, height - dy); y++) {
                        System.arraycopy(inputValues, image + (y + dy) * width + x0 + dx, column, y * outWidth + x0,
                                x1 - x0);
                    }
                }
            }
        }
    }

    /** Adds the per-tap input gradients of example {@code n} back onto the input positions they came from. */
    private void fromColumns(int n, int height, int width, int outHeight, int outWidth) {
        for (int c = 0; c < inChannels; c++) {
            int image = (n * inChannels + c) * height * width;
            for (int ky = 0; ky < kernelHeight; ky++) {
                for (int kx = 0; kx < kernelWidth; kx++) {
                    float[] g = inputGradientColumns[(c * kernelHeight + ky) * kernelWidth + kx];
                    int dy = ky - padTop;
                    int dx = kx - padLeft;
                    int x0 = Math.max(0, -dx);
                    int x1 = Math.min(outWidth, width - dx);
                    for (int y = Math.max(0, -dy); y < Math.min(outHeight, height - dy); y++) {
                        int to = image + (y + dy) * width + dx;
                        int from = y * outWidth;
                        for (int x = x0; x < x1; x++) {
                            inputGradient[to + x] += g[from + x];
                        }
                    }
                }
            }
        }
    }

    /** A sum in four running parts (the plane's positions were summed in parallel lanes before). */
    private static float total(float[] values, int length) {
        float s0 = 0;
        float s1 = 0;
        float s2 = 0;
        float s3 = 0;
        int i = 0;
        for (; i + 3 < length; i += 4) {
            s0 += values[i];
            s1 += values[i + 1];
            s2 += values[i + 2];
            s3 += values[i + 3];
        }
        for (; i < length; i++) {
            s0 += values[i];
        }
        return (s0 + s1) + (s2 + s3);
    }
}
