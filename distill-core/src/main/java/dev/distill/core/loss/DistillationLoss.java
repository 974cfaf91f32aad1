package dev.distill.core.loss;

import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Knowledge-distillation loss (Hinton, Vinyals, Dean 2015, "Distilling the Knowledge in a Neural
 * Network"), per example:
 *
 * <pre>
 *   L = softWeight · T² · KL( softmax(t/T) ‖ softmax(s/T) )  +  hardWeight · CE( y, softmax(s) )
 * </pre>
 *
 * where {@code s} are the student's logits, {@code t} the teacher's logits, {@code y} the one-hot
 * label and {@code T} the temperature. The T² factor keeps the soft term's gradient on the same
 * scale as the hard term's when T changes. The weights are named for what they weigh, because
 * tools disagree on what a bare {@code alpha} means.
 *
 * <p>How it plugs into DL4J: the output layer keeps its softmax activation (so {@code output()}
 * gives probabilities), and this loss ignores that activation and works on the pre-activation
 * logits DL4J hands it. The label array is twice as wide as the output: {@code [one-hot (C) |
 * teacher logits (C)]}; DL4J does not check label width against output width. The gradient with
 * respect to the logits is {@code softWeight·T·(softmax(s/T) − softmax(t/T)) + hardWeight·(softmax(s) − y)}.
 * Per-example gradients are not divided by the batch size: DL4J does that.
 */
public final class DistillationLoss implements ILossFunction {

    @JsonProperty("temperature")
    private double temperature;
    @JsonProperty("softWeight")
    private double softWeight;
    @JsonProperty("hardWeight")
    private double hardWeight;

    /** Needed by DL4J's (Jackson) model deserialisation; the values are then set from the file. */
    public DistillationLoss() {
        this(4.0, 0.9, 0.1);
    }

    public DistillationLoss(double temperature, double softWeight, double hardWeight) {
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be positive, got " + temperature);
        }
        if (!(softWeight >= 0) || !(hardWeight >= 0) || softWeight + hardWeight <= 0) {
            throw new IllegalArgumentException("soft and hard weights must be non-negative and not both zero, got "
                    + softWeight + " and " + hardWeight);
        }
        this.temperature = temperature;
        this.softWeight = softWeight;
        this.hardWeight = hardWeight;
    }

    public double temperature() {
        return temperature;
    }

    public double softWeight() {
        return softWeight;
    }

    public double hardWeight() {
        return hardWeight;
    }

    /** The label array this loss expects: one-hot labels and teacher logits side by side. */
    public static INDArray labels(INDArray oneHot, INDArray teacherLogits) {
        if (!java.util.Arrays.equals(oneHot.shape(), teacherLogits.shape())) {
            throw new IllegalArgumentException("one-hot labels " + java.util.Arrays.toString(oneHot.shape())
                    + " and teacher logits " + java.util.Arrays.toString(teacherLogits.shape()) + " differ in shape");
        }
        return org.nd4j.linalg.factory.Nd4j.hstack(oneHot, teacherLogits.castTo(oneHot.dataType()));
    }

    @Override
    public INDArray computeScoreArray(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        Terms terms = terms(labels, preOutput);
        INDArray kl = Transforms.exp(terms.teacherLogProbsT, true)
                .muli(terms.teacherLogProbsT.sub(terms.studentLogProbsT))
                .sum(true, 1)
                .muli(softWeight * temperature * temperature);
        INDArray ce = terms.hard.mul(terms.studentLogProbs).sum(true, 1).muli(-hardWeight);
        INDArray score = kl.addi(ce);
        if (mask != null) {
            score.muliColumnVector(exampleMask(mask, score));
        }
        return score;
    }

    @Override
    public double computeScore(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask,
            boolean average) {
        double sum = computeScoreArray(labels, preOutput, activationFn, mask).sumNumber().doubleValue();
        return average ? sum / preOutput.size(0) : sum;
    }

    @Override
    public INDArray computeGradient(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        Terms terms = terms(labels, preOutput);
        INDArray soft = Transforms.exp(terms.studentLogProbsT, true)
                .subi(Transforms.exp(terms.teacherLogProbsT, true))
                .muli(softWeight * temperature);
        INDArray hard = Transforms.exp(terms.studentLogProbs, true).subi(terms.hard).muli(hardWeight);
        INDArray gradient = soft.addi(hard);
        if (mask != null) {
            gradient.muliColumnVector(exampleMask(mask, gradient));
        }
        return gradient;
    }

    @Override
    public Pair<Double, INDArray> computeGradientAndScore(INDArray labels, INDArray preOutput,
            IActivation activationFn, INDArray mask, boolean average) {
        return new Pair<>(computeScore(labels, preOutput, activationFn, mask, average),
                computeGradient(labels, preOutput, activationFn, mask));
    }

    @Override
    public String name() {
        return "DistillationLoss(T=" + temperature + ", soft=" + softWeight + ", hard=" + hardWeight + ")";
    }

    @Override
    public String toString() {
        return name();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DistillationLoss other
                && other.temperature == temperature
                && other.softWeight == softWeight
                && other.hardWeight == hardWeight;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(temperature, softWeight, hardWeight);
    }

    private record Terms(INDArray hard, INDArray studentLogProbsT, INDArray teacherLogProbsT,
            INDArray studentLogProbs) {
    }

    private Terms terms(INDArray labels, INDArray preOutput) {
        long classes = preOutput.size(1);
        if (labels.size(1) != 2 * classes) {
            throw new IllegalArgumentException("DistillationLoss needs labels [one-hot | teacher logits], "
                    + 2 * classes + " columns wide for " + classes + " classes; got " + labels.size(1));
        }
        INDArray hard = labels.get(NDArrayIndex.all(), NDArrayIndex.interval(0, classes)).castTo(preOutput.dataType());
        INDArray teacher = labels.get(NDArrayIndex.all(), NDArrayIndex.interval(classes, 2 * classes))
                .castTo(preOutput.dataType());
        return new Terms(hard,
                logSoftmax(preOutput.div(temperature)),
                logSoftmax(teacher.div(temperature)),
                logSoftmax(preOutput.dup()));
    }

    /** Row-wise log-softmax, shifted by the row maximum so that large logits do not overflow. Overwrites x. */
    private static INDArray logSoftmax(INDArray x) {
        INDArray shifted = x.subiColumnVector(x.max(true, 1));
        INDArray logSum = Transforms.log(Transforms.exp(shifted, true).sum(true, 1), false);
        return shifted.subiColumnVector(logSum);
    }

    private static INDArray exampleMask(INDArray mask, INDArray like) {
        if (mask.size(0) != like.size(0) || (mask.rank() == 2 && mask.size(1) != 1)) {
            throw new IllegalArgumentException("DistillationLoss supports per-example masks [n, 1] only, got "
                    + java.util.Arrays.toString(mask.shape()));
        }
        return mask.reshape(mask.size(0), 1).castTo(like.dataType());
    }
}
