package dev.distill.core.chain;

import java.util.List;

/**
 * The one rule by which the framework chooses among alternatives it trained (sweep points, automatic
 * assistants): the highest mean validation accuracy over seeds; on a tie the earlier alternative, so the
 * order they were listed in decides and nothing else does. Test accuracies are never an input.
 */
public final class ValidationChoice {

    private ValidationChoice() {
    }

    /**
     * The index of the alternative with the highest mean of its per-seed validation accuracies.
     *
     * @throws IllegalArgumentException if there is nothing to choose from
     */
    public static int best(List<double[]> validationPerAlternative) {
        int best = -1;
        double bestMean = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < validationPerAlternative.size(); i++) {
            double mean = mean(validationPerAlternative.get(i));
            if (mean > bestMean) {
                best = i;
                bestMean = mean;
            }
        }
        if (best < 0) {
            throw new IllegalArgumentException("nothing to choose from: no alternative has a validation accuracy");
        }
        return best;
    }

    /** The mean of {@code values}, computed in double (NaN for none). */
    public static double mean(double[] values) {
        double sum = 0;
        for (double v : values) {
            sum += v;
        }
        return values.length == 0 ? Double.NaN : sum / values.length;
    }
}
