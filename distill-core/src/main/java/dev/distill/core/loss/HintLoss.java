package dev.distill.core.loss;

import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.ILossFunction;

/**
 * The hint loss of FitNets (Romero et al. 2015, "FitNets: Hints for Thin Deep Nets", eq. 2), per example:
 *
 * <pre>
 *   L = ½ · ‖ u − r ‖²
 * </pre>
 *
 * where {@code u} is the teacher's hint (its chosen layer's output, globally average-pooled over space for a
 * conv layer) and {@code r} the regressor's output on the student's guided layer: the pre-activation of the
 * layer this loss sits on, whatever its activation (as the distillation losses read logits), so the
 * regressor is linear. Gradient with respect to {@code r}: {@code r − u}; not divided by the batch size
 * (DL4J does that).
 */
public final class HintLoss implements ILossFunction {

    /** Needed by DL4J's (Jackson) model deserialisation. */
    public HintLoss() {
    }

    private static void check(INDArray labels, INDArray preOutput) {
        if (!java.util.Arrays.equals(labels.shape(), preOutput.shape())) {
            throw new IllegalArgumentException("HintLoss needs teacher features " + java.util.Arrays.toString(
                    preOutput.shape()) + " like the regressor's output; got " + java.util.Arrays.toString(labels.shape()));
        }
    }

    private static INDArray masked(INDArray perExample, INDArray mask) {
        return mask == null ? perExample : perExample.muli(LossArrays.exampleMask(mask, perExample));
    }

    @Override
    public INDArray computeScoreArray(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        check(labels, preOutput);
        INDArray diff = preOutput.sub(labels.castTo(preOutput.dataType()));
        return masked(diff.muli(diff).sum(true, 1).muli(0.5), mask);
    }

    @Override
    public double computeScore(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask,
            boolean average) {
        double sum = computeScoreArray(labels, preOutput, activationFn, mask).sumNumber().doubleValue();
        return average ? sum / preOutput.size(0) : sum;
    }

    @Override
    public INDArray computeGradient(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        check(labels, preOutput);
        INDArray gradient = preOutput.sub(labels.castTo(preOutput.dataType()));
        return mask == null ? gradient : gradient.muliColumnVector(LossArrays.exampleMask(mask, gradient));
    }

    @Override
    public Pair<Double, INDArray> computeGradientAndScore(INDArray labels, INDArray preOutput, IActivation activationFn,
            INDArray mask, boolean average) {
        return new Pair<>(computeScore(labels, preOutput, activationFn, mask, average),
                computeGradient(labels, preOutput, activationFn, mask));
    }

    @Override
    public String name() {
        return "HintLoss";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HintLoss;
    }

    @Override
    public int hashCode() {
        return HintLoss.class.hashCode();
    }

    @Override
    public String toString() {
        return name();
    }
}
