package dev.distill.models.network;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * DL4J's dense layer with two multiplications less in its backward pass, the same bits: it does not compute
 * the layer's pre-activations a second time (DL4J's {@code BaseLayer.backpropGradient} multiplies the input by
 * the weights again, where the forward pass just did), and as a network's first layer it does not compute the
 * gradient of the network's input, which DL4J computes and then drops.
 *
 * <p>Why: for the 784-32-10 student those two are half of the first layer's four large multiplications (the
 * forward one, the recomputed one, the input gradient, the weight gradient), where PyTorch needs two; see
 * {@code tools/profile/LeanDense.java}.
 *
 * <p>The derivative of ReLU and of the identity at the pre-activations is the one at the activations (ReLU's
 * output is positive exactly where its input is), so the backward pass uses the activations the forward pass
 * kept; any other activation, layer norm, dropout or weight noise, or dropout in the next layer (which may scale the
 * kept activations in place) leaves the layer as DL4J made it. The network's
 * configuration, files and parameters do not change: only the layer objects that compute are replaced.
 */
public final class LeanDenseBackprop extends DenseLayer {

    private final boolean inputGradientUnused;
    /** The activations of the last forward pass in training mode and the input they were computed from. */
    private INDArray trainingOutput;
    private INDArray trainingInput;
    /** Backward passes that used the kept activations (the rest were DL4J's own). */
    private long reusedActivations;

    private LeanDenseBackprop(NeuralNetConfiguration conf, org.nd4j.linalg.api.buffer.DataType dataType,
            boolean inputGradientUnused) {
        super(conf, dataType);
        this.inputGradientUnused = inputGradientUnused;
    }

    /**
     * Replaces each of {@code net}'s qualifying dense layers (a sequential network's; a graph is left alone) by
     * one computing as described above, over the same parameter and gradient arrays. Calling it again changes
     * nothing.
     *
     * @return the number of dense layers that now compute this way
     */
    public static int install(Network net) {
        return LayerObjects.replace(net, LeanDenseBackprop.class, (layers, i, inputGradientUnused) -> {
            Layer layer = layers[i];
            boolean qualifies = layer.getClass() == DenseLayer.class && qualifies((DenseLayer) layer)
                    // dropout in the next layer may scale the kept activations in place
                    && (i + 1 == layers.length || layers[i + 1].conf().getLayer().getIDropout() == null);
            return qualifies ? new LeanDenseBackprop(layer.conf(),
                    layer.getParam(DefaultParamInitializer.WEIGHT_KEY).dataType(), inputGradientUnused) : null;
        });
    }

    private static boolean qualifies(DenseLayer layer) {
        org.deeplearning4j.nn.conf.layers.DenseLayer conf =
                (org.deeplearning4j.nn.conf.layers.DenseLayer) layer.conf().getLayer();
        return reluOrIdentity(conf.getActivationFn()) && !conf.hasLayerNorm()
                && conf.getIDropout() == null && conf.getWeightNoise() == null;
    }

    /**
     * Whether {@code activation} is plain ReLU (no cap, threshold or slope) or the identity: the two whose
     * derivative at the pre-activations can be read from the activations.
     */
    static boolean reluOrIdentity(IActivation activation) {
        boolean plainRelu = activation instanceof ActivationReLU relu && relu.getMax() == null
                && relu.getThreshold() == null && relu.getNegativeSlope() == null;
        return plainRelu || activation instanceof ActivationIdentity;
    }

    /** How many backward passes used the activations of their forward pass. */
    long reusedActivations() {
        return reusedActivations;
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        INDArray out = super.activate(training, workspaceMgr);
        trainingOutput = training && maskArray == null ? out : null;
        trainingInput = training ? input : null;
        return out;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        INDArray activations = trainingOutput;
        boolean kept = activations != null && trainingInput == input;
        trainingOutput = null;
        trainingInput = null;
        if (!kept) {
            return super.backpropGradient(epsilon, workspaceMgr);
        }
        assertInputSet(true);
        reusedActivations++;
        // as BaseLayer.backpropGradient, with the kept activations for the pre-activations
        INDArray delta = layerConf().getActivationFn().backprop(activations, epsilon).getFirst();
        Gradient gradient = new DefaultGradient();
        if (hasBias()) {
            INDArray biasGrad = gradientViews.get(DefaultParamInitializer.BIAS_KEY);
            delta.sum(biasGrad, 0);
            gradient.gradientForVariable().put(DefaultParamInitializer.BIAS_KEY, biasGrad);
        }
        INDArray epsilonNext = null;
        if (!inputGradientUnused) {
            INDArray w = getParam(DefaultParamInitializer.WEIGHT_KEY);
            epsilonNext = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, delta.dataType(),
                    new long[] {w.size(0), delta.size(0)}, 'f');
            epsilonNext = w.mmuli(delta.transpose(), epsilonNext).transpose();
        }
        INDArray weightGrad = gradientViews.get(DefaultParamInitializer.WEIGHT_KEY);
        Nd4j.gemm(input.castTo(weightGrad.dataType()), delta, weightGrad, true, false, 1.0, 0.0);
        gradient.gradientForVariable().put(DefaultParamInitializer.WEIGHT_KEY, weightGrad);
        return new Pair<>(gradient, epsilonNext);
    }
}
