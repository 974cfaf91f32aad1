package dev.distill.core.loss;

import dev.distill.core.SettingException;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.ILossFunction;

/**
 * A distillation loss as DL4J sees it: labels {@code [one-hot | teacher logits]}, the output layer's
 * activation ignored (the loss reads the logits), score and gradient from one evaluation of the batch.
 */
public abstract class SoftTargetLoss implements ILossFunction {

    /** Per-example losses and the gradient with respect to the logits of one batch. */
    abstract LossArrays.Evaluation evaluate(INDArray labels, INDArray preOutput, INDArray mask);

    @Override
    public INDArray computeScoreArray(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        return evaluate(labels, preOutput, mask).scores();
    }

    @Override
    public double computeScore(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask,
            boolean average) {
        return evaluate(labels, preOutput, mask).score(average);
    }

    @Override
    public INDArray computeGradient(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        return evaluate(labels, preOutput, mask).gradient();
    }

    @Override
    public Pair<Double, INDArray> computeGradientAndScore(INDArray labels, INDArray preOutput,
            IActivation activationFn, INDArray mask, boolean average) {
        LossArrays.Evaluation e = evaluate(labels, preOutput, mask);
        return new Pair<>(e.score(average), e.gradient());
    }

    /** The one check of a loss weight ({@code soft_weight}, {@code hard_weight}, {@code alpha}, {@code beta}). */
    public static void checkWeight(String key, double weight) {
        if (!(weight >= 0) || Double.isInfinite(weight)) {
            throw new SettingException(key, key + " must be a non-negative number, found " + weight);
        }
    }

    /** The one check of a distillation temperature, wherever one is set. */
    public static void checkTemperature(double temperature) {
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            throw new SettingException("temperature", "temperature must be a positive number, found " + temperature);
        }
    }

    @Override
    public String toString() {
        return name();
    }
}
