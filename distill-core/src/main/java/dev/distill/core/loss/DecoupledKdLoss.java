package dev.distill.core.loss;

import dev.distill.core.SettingException;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Decoupled knowledge distillation (Zhao, Cui, Song, Qiu, Liang, CVPR 2022, "Decoupled Knowledge
 * Distillation"), per example with target class {@code g}:
 *
 * <pre>
 *   L = T² · ( alpha · TCKD + beta · NCKD )  +  hardWeight · CE( y, softmax(s) )
 *   TCKD = KL( [p_g, 1 − p_g] ‖ [q_g, 1 − q_g] )          target class against the rest
 *   NCKD = KL( p̂ ‖ q̂ ),  p̂, q̂ = softmax over the non-target classes only
 * </pre>
 *
 * with {@code p = softmax(t/T)} the teacher's and {@code q = softmax(s/T)} the student's distribution.
 * Vanilla KD's KL is {@code TCKD + (1 − p_g) · NCKD}: the non-target term is weighted down exactly where
 * the teacher is confident, which is where its "dark knowledge" is most reliable; DKD gives it its own
 * weight {@code beta}. Paper defaults: alpha 1, beta 8, T 4, cross-entropy weight 1 (its warm-up of the
 * distillation term over the first epochs is not done here).
 *
 * <p>Labels as {@link DistillationLoss} takes them: {@code [one-hot (C) | teacher logits (C)]}. The target
 * class is the label's largest entry (mixed-up labels: the larger of the two). The gradient with
 * respect to the student logits, per class {@code j}, with {@code d = q_g − p_g}:
 * {@code T·alpha·d} for {@code j = g} and {@code T·(beta·(q̂_j − p̂_j) − alpha·d·q̂_j)} otherwise, plus
 * {@code hardWeight·(softmax(s)_j − y_j)}. Computed over plain arrays in double precision, as
 * {@link DistillationLoss} does and for the same reason.
 */
public final class DecoupledKdLoss extends SoftTargetLoss {

    @JsonProperty("temperature")
    private double temperature;
    @JsonProperty("alpha")
    private double alpha;
    @JsonProperty("beta")
    private double beta;
    @JsonProperty("hardWeight")
    private double hardWeight;

    /** Needed by DL4J's (Jackson) model deserialisation; the values are then set from the file. */
    public DecoupledKdLoss() {
        this(4.0, 1.0, 8.0, 1.0);
    }

    public DecoupledKdLoss(double temperature, double alpha, double beta, double hardWeight) {
        checkTemperature(temperature);
        checkWeight("alpha", alpha);
        checkWeight("beta", beta);
        checkWeight("hard_weight", hardWeight);
        if (alpha + beta + hardWeight <= 0) {
            throw new SettingException("beta", "alpha, beta and hard_weight must not all be zero: nothing to learn from");
        }
        this.temperature = temperature;
        this.alpha = alpha;
        this.beta = beta;
        this.hardWeight = hardWeight;
    }

    public double temperature() {
        return temperature;
    }

    public double alpha() {
        return alpha;
    }

    public double beta() {
        return beta;
    }

    public double hardWeight() {
        return hardWeight;
    }

    @Override
    public String name() {
        return "DecoupledKdLoss(T=" + temperature + ", alpha=" + alpha + ", beta=" + beta + ", hard=" + hardWeight + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DecoupledKdLoss other && other.temperature == temperature && other.alpha == alpha
                && other.beta == beta && other.hardWeight == hardWeight;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(temperature, alpha, beta, hardWeight);
    }

    @Override
    LossArrays.Evaluation evaluate(INDArray labels, INDArray preOutput, INDArray mask) {
        int classes = LossArrays.checkWideLabels("DecoupledKdLoss", labels, preOutput);
        if (classes < 2) {
            throw new IllegalArgumentException("DecoupledKdLoss needs at least 2 classes, got " + classes);
        }
        int n = (int) preOutput.size(0);
        double[] logits = LossArrays.rowMajor(preOutput);
        double[] wide = LossArrays.rowMajor(labels);
        double[] weights = mask == null ? null : LossArrays.rowMajor(LossArrays.exampleMask(mask, preOutput));
        double[] perExample = new double[n];
        double[] gradient = new double[n * classes];
        double[] student = new double[classes];
        double[] q = new double[classes];
        double[] z = new double[classes];
        double[] u = new double[classes];
        for (int i = 0; i < n; i++) {
            int row = i * classes;
            int labelRow = 2 * row;
            int g = 0;
            for (int j = 0; j < classes; j++) {
                student[j] = logits[row + j];
                z[j] = student[j] / temperature;
                u[j] = wide[labelRow + classes + j] / temperature;
                if (wide[labelRow + j] > wide[labelRow + g]) {
                    g = j;
                }
            }
            double studentNorm = LossArrays.softmax(student, q);
            // log-sum-exps over all classes and over the non-target ones: every probability below comes
            // from them, so a confident target (q_g near 1) loses no precision in 1 - q_g
            double zAll = logSumExp(z, -1);
            double zRest = logSumExp(z, g);
            double uAll = logSumExp(u, -1);
            double uRest = logSumExp(u, g);
            double logQg = z[g] - zAll;
            double logPg = u[g] - uAll;
            double logQRest = zRest - zAll;   // log(1 - q_g)
            double logPRest = uRest - uAll;   // log(1 - p_g)
            double pg = Math.exp(logPg);
            double pRest = Math.exp(logPRest);
            double d = Math.exp(logQg) - pg;   // q_g - p_g
            double tckd = pg * (logPg - logQg) + (pRest > 0 ? pRest * (logPRest - logQRest) : 0);
            double nckd = 0;
            double weight = weights == null ? 1 : weights[i];
            double ce = 0;
            for (int j = 0; j < classes; j++) {
                double y = wide[labelRow + j];
                ce -= y * (student[j] - studentNorm);
                double soft;
                if (j == g) {
                    soft = temperature * alpha * d;
                } else {
                    double logQHat = z[j] - zRest;
                    double logPHat = u[j] - uRest;
                    double pHat = Math.exp(logPHat);
                    double qHat = Math.exp(logQHat);
                    nckd += pHat * (logPHat - logQHat);
                    soft = temperature * (beta * (qHat - pHat) - alpha * d * qHat);
                }
                gradient[row + j] = weight * (soft + hardWeight * (q[j] - y));
            }
            perExample[i] = weight * (temperature * temperature * (alpha * tckd + beta * nckd) + hardWeight * ce);
        }
        return new LossArrays.Evaluation(perExample, gradient, n, classes, preOutput.dataType());
    }

    /** log(sum(exp(x_j))) over every j except {@code skip} (-1: none), shifted by the maximum. */
    private static double logSumExp(double[] x, int skip) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < x.length; j++) {
            if (j != skip) {
                max = Math.max(max, x[j]);
            }
        }
        double sum = 0;
        for (int j = 0; j < x.length; j++) {
            if (j != skip) {
                sum += Math.exp(x[j] - max);
            }
        }
        return max + Math.log(sum);
    }
}
