package dev.distill.core.loss;

import dev.distill.core.SettingException;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import java.util.Arrays;
import org.nd4j.shade.jackson.annotation.JsonIgnore;
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
public final class DistillationLoss extends SoftTargetLoss {

    @JsonProperty("temperature")
    private double temperature;
    @JsonProperty("softWeight")
    private double softWeight;
    @JsonProperty("hardWeight")
    private double hardWeight;

    /**
     * The last batch's inputs and result. DL4J asks for the score and then the gradient of the same
     * batch in two calls; the second finds its inputs here (compared by value, so a stale entry can
     * never be used) instead of computing every softmax again. Immutable, swapped whole: thread-safe.
     */
    @JsonIgnore
    private transient volatile Memo last;

    private record Memo(double[] logits, double[] wide, double[] weights, LossArrays.Evaluation evaluation) {
    }

    /** Needed by DL4J's (Jackson) model deserialisation; the values are then set from the file. */
    public DistillationLoss() {
        this(4.0, 0.9, 0.1);
    }

    public DistillationLoss(double temperature, double softWeight, double hardWeight) {
        checkTemperature(temperature);
        checkWeight("soft_weight", softWeight);
        checkWeight("hard_weight", hardWeight);
        if (softWeight + hardWeight <= 0) {
            throw new SettingException(softWeight == 0 && hardWeight == 0 ? "soft_weight" : "hard_weight",
                    "soft_weight and hard_weight must not both be zero: nothing to learn from");
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
    public String name() {
        return "DistillationLoss(T=" + temperature + ", soft=" + softWeight + ", hard=" + hardWeight + ")";
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

    /**
     * Loss and gradient in one pass over plain arrays, in double precision. Why not ND4J ops: a batch
     * is only [n, C] (C = 10 here), so the fifty-odd small ops the formula takes cost far more in
     * dispatch than in arithmetic, and DL4J asks for the score and the gradient separately; this way a
     * distillation epoch costs about what a cross-entropy epoch costs (see {@code ./distill bench}).
     */
    @Override
    LossArrays.Evaluation evaluate(INDArray labels, INDArray preOutput, INDArray mask) {
        int classes = LossArrays.checkWideLabels("DistillationLoss", labels, preOutput);
        int n = (int) preOutput.size(0);
        double[] logits = LossArrays.rowMajor(preOutput);
        double[] wide = LossArrays.rowMajor(labels);
        double[] weights = mask == null ? null : LossArrays.rowMajor(LossArrays.exampleMask(mask, preOutput));
        Memo memo = last;
        if (memo != null && memo.evaluation().type() == preOutput.dataType() && Arrays.equals(memo.logits(), logits)
                && Arrays.equals(memo.wide(), wide) && Arrays.equals(memo.weights(), weights)) {
            return memo.evaluation();
        }
        double[] perExample = new double[n];
        double[] gradient = new double[n * classes];
        double[] student = new double[classes];
        double[] studentT = new double[classes];
        double[] teacherT = new double[classes];
        double[] qT = new double[classes];
        double[] pT = new double[classes];
        double[] q = new double[classes];
        for (int i = 0; i < n; i++) {
            int row = i * classes;
            int labelRow = 2 * row;
            for (int j = 0; j < classes; j++) {
                student[j] = logits[row + j];
                studentT[j] = student[j] / temperature;
                teacherT[j] = wide[labelRow + classes + j] / temperature;
            }
            // one exp per class and distribution: the softmax comes from the same terms as its normaliser
            double studentTNorm = LossArrays.softmax(studentT, qT);
            double teacherTNorm = LossArrays.softmax(teacherT, pT);
            double studentNorm = LossArrays.softmax(student, q);
            double kl = 0;
            double ce = 0;
            double weight = weights == null ? 1 : weights[i];
            for (int j = 0; j < classes; j++) {
                double y = wide[labelRow + j];
                double logQT = studentT[j] - studentTNorm;   // log softmax(s/T)
                double logPT = teacherT[j] - teacherTNorm;   // log softmax(t/T)
                double logQ = student[j] - studentNorm;      // log softmax(s)
                kl += pT[j] * (logPT - logQT);
                ce -= y * logQ;
                gradient[row + j] = weight * (softWeight * temperature * (qT[j] - pT[j]) + hardWeight * (q[j] - y));
            }
            perExample[i] = weight * (softWeight * temperature * temperature * kl + hardWeight * ce);
        }
        LossArrays.Evaluation evaluation = new LossArrays.Evaluation(perExample, gradient, n, classes, preOutput.dataType());
        last = new Memo(logits, wide, weights, evaluation);
        return evaluation;
    }
}
