package dev.distill.models.network;

import dev.distill.models.nd4j.JavaArrays;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.OutputLayer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * DL4J's output layer with its loss evaluated once a training step: the backward pass computes the loss's gradient
 * and its score together and keeps the score for the step's score, where DL4J evaluates the loss twice and
 * multiplies the input by the weights twice (once for the gradient, once for the score). For softmax with
 * cross-entropy the one evaluation runs in Java.
 *
 * <p>Why: for the 784-32-10 student the loss was a quarter to a third of a training step (Java Flight Recorder,
 * {@code ./distill bench}): about a dozen ND4J operations on a 128 x 10 array, each costing its call, not its
 * arithmetic; a distillation loss computed in Java (the project's) was computed twice. The layer's matrix products
 * (logits, weight gradient, input gradient) stay DL4J's.
 *
 * <p>Any loss but softmax cross-entropy gives DL4J's bits: the same calls on the same arrays, once. Softmax
 * cross-entropy ({@link LossMCXENT} without class weights) is computed in float as libnd4j computes it (the maximum
 * subtracted, the exponentials summed, each divided by the sum) with Java's exponential, so it is DL4J's up to
 * rounding; its score clips the probabilities to {@code [eps, 1 - eps]} as {@link LossMCXENT} does. Dropout, weight
 * noise, and a score asked for without the backward pass before it (an evaluation) keep DL4J's computation; masks
 * keep it for softmax cross-entropy. The network's configuration and files do not change: only the layer object
 * that computes is replaced.
 */
public final class OnePassOutputLayer extends OutputLayer {

    /** Whether the loss is softmax cross-entropy, computed here in Java. */
    private final boolean softmaxCrossEntropy;
    private final float clipLow;
    private final float clipHigh;
    /** The summed loss of the last backward pass, and the input and labels it was computed from. */
    private double keptLoss = Double.NaN;
    private INDArray keptInput;
    private INDArray keptLabels;
    private float[] logits = new float[0];
    private float[] targets = new float[0];
    /** Backward passes that evaluated the loss once (the rest were DL4J's own). */
    private long onePassBackwardPasses;

    private OnePassOutputLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
        org.deeplearning4j.nn.conf.layers.OutputLayer c = (org.deeplearning4j.nn.conf.layers.OutputLayer) conf.getLayer();
        softmaxCrossEntropy = c.getLossFn() instanceof LossMCXENT loss && loss.getWeights() == null
                && c.getActivationFn() instanceof ActivationSoftmax && dataType == DataType.FLOAT;
        double clipEps = c.getLossFn() instanceof LossMCXENT loss ? loss.getSoftmaxClipEps() : 0;
        clipLow = (float) clipEps;
        clipHigh = (float) (1.0 - clipEps);
    }

    /**
     * Replaces {@code net}'s output layer (a sequential network's; a graph is left alone) by one computing as
     * described above, when it qualifies. Calling it again changes nothing.
     *
     * @return 1 when the output layer now computes this way, else 0
     */
    public static int install(Network net) {
        return LayerObjects.replace(net, OnePassOutputLayer.class, (layers, i, inputGradientUnused) -> {
            Layer layer = layers[i];
            if (layer.getClass() != OutputLayer.class || i != layers.length - 1) {
                return null;
            }
            org.deeplearning4j.nn.conf.layers.OutputLayer conf =
                    (org.deeplearning4j.nn.conf.layers.OutputLayer) layer.conf().getLayer();
            boolean qualifies = conf.getIDropout() == null && conf.getWeightNoise() == null;
            return qualifies ? new OnePassOutputLayer(layer.conf(),
                    layer.getParam(DefaultParamInitializer.WEIGHT_KEY).dataType()) : null;
        });
    }

    /** How many backward passes evaluated the loss once (in Java, for softmax cross-entropy). */
    long onePassBackwardPasses() {
        return onePassBackwardPasses;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        keptLoss = Double.NaN;
        keptInput = null;
        keptLabels = null;
        boolean inJava = softmaxCrossEntropy && maskArray == null;
        if (labels == null || input == null || input.rank() != 2 || inJava && input.dataType() != DataType.FLOAT) {
            return super.backpropGradient(epsilon, workspaceMgr);
        }
        assertInputSet(true);
        onePassBackwardPasses++;
        INDArray preOut = preOutput2d(true, workspaceMgr);
        INDArray labels2d = getLabels2d(workspaceMgr, ArrayType.BP_WORKING_MEM);
        Pair<Double, INDArray> evaluated = inJava
                ? softmaxCrossEntropy(preOut, labels2d.castTo(DataType.FLOAT), workspaceMgr)
                : layerConf().getLossFn().computeGradientAndScore(labels2d, preOut, layerConf().getActivationFn(),
                        maskArray, false);
        keptLoss = evaluated.getFirst();
        INDArray delta = workspaceMgr.leverageTo(ArrayType.ACTIVATION_GRAD, evaluated.getSecond());
        keptInput = input;
        keptLabels = labels;
        // as DL4J's output layer from here: the weight and bias gradients, and the gradient handed back
        Gradient gradient = new DefaultGradient();
        INDArray weightGrad = gradientViews.get(DefaultParamInitializer.WEIGHT_KEY);
        Nd4j.gemm(input.castTo(weightGrad.dataType()), delta, weightGrad, true, false, 1.0, 0.0);
        gradient.gradientForVariable().put(DefaultParamInitializer.WEIGHT_KEY, weightGrad);
        if (hasBias()) {
            INDArray biasGrad = gradientViews.get(DefaultParamInitializer.BIAS_KEY);
            delta.sum(biasGrad, 0);
            gradient.gradientForVariable().put(DefaultParamInitializer.BIAS_KEY, biasGrad);
        }
        INDArray w = getParam(DefaultParamInitializer.WEIGHT_KEY);
        INDArray epsilonNext = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, delta.dataType(),
                new long[] {w.size(0), delta.size(0)}, 'f');
        epsilonNext = w.mmuli(delta.transpose(), epsilonNext).transpose();
        return new Pair<>(gradient, epsilonNext);
    }

    /** The summed loss and its gradient at the logits {@code preOut}, as {@code computeGradientAndScore} gives them. */
    private Pair<Double, INDArray> softmaxCrossEntropy(INDArray preOut, INDArray labels2d,
            LayerWorkspaceMgr workspaceMgr) {
        int rows = (int) preOut.size(0);
        int classes = (int) preOut.size(1);
        int n = rows * classes;
        logits = JavaArrays.read(preOut, logits, n);
        targets = JavaArrays.read(labels2d, targets, n);
        float[] delta = logits;   // each row's logits become its gradient in place
        double loss = softmaxCrossEntropy(delta, targets, rows, classes, clipLow, clipHigh);
        INDArray gradientArray = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT,
                new long[] {rows, classes}, 'c');
        JavaArrays.write(delta, gradientArray);
        return new Pair<>(loss, gradientArray);
    }

    /**
     * The summed softmax cross-entropy of {@code rows} rows of {@code classes} logits in {@code delta} against
     * {@code targets}, the probabilities clipped to {@code [clipLow, clipHigh]} for the score; each row's logits
     * become its gradient (probabilities minus targets) in place.
     */
    static double softmaxCrossEntropy(float[] delta, float[] targets, int rows, int classes, float clipLow,
            float clipHigh) {
        double loss = 0;
        for (int r = 0; r < rows; r++) {
            int from = r * classes;
            int to = from + classes;
            float max = delta[from];
            for (int i = from + 1; i < to; i++) {
                max = Math.max(max, delta[i]);
            }
            float sum = 0f;
            for (int i = from; i < to; i++) {
                float e = (float) Math.exp(delta[i] - max);
                delta[i] = e;
                sum += e;
            }
            for (int i = from; i < to; i++) {
                float p = delta[i] / sum;
                float clipped = p < clipLow ? clipLow : p > clipHigh ? clipHigh : p;
                // a zero target's term is a signed zero that leaves the sum's bits alone, unless its log is not
                // finite (a probability of 0 with no clipping: 0 times -infinity is NaN, as in DL4J's loss)
                if (targets[i] != 0f || !(clipped > 0f)) {
                    loss += targets[i] * Math.log(clipped);
                }
                delta[i] = p - targets[i];
            }
        }
        return -loss;
    }

    @Override
    public double computeScore(double fullNetRegTerm, boolean training, LayerWorkspaceMgr workspaceMgr) {
        boolean kept = training && !Double.isNaN(keptLoss) && keptInput == input && keptLabels == labels;
        double loss = keptLoss;
        keptLoss = Double.NaN;
        if (!kept) {
            return super.computeScore(fullNetRegTerm, training, workspaceMgr);
        }
        double value = conf().isMiniBatch() ? loss / getInputMiniBatchSize() : loss;
        score = value + fullNetRegTerm;
        return score;
    }
}
