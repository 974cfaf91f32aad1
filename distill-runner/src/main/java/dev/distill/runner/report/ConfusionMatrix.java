package dev.distill.runner.report;

/** Counts of (true class, predicted class) over a test set, and the per-class figures read from them. */
public final class ConfusionMatrix {

    private final int[][] counts;

    private ConfusionMatrix(int[][] counts) {
        this.counts = counts;
    }

    public static ConfusionMatrix of(int[] labels, int[] predicted, int classes) {
        if (labels.length != predicted.length) {
            throw new IllegalArgumentException(labels.length + " labels but " + predicted.length + " predictions");
        }
        int[][] counts = new int[classes][classes];
        for (int i = 0; i < labels.length; i++) {
            counts[labels[i]][predicted[i]]++;
        }
        return new ConfusionMatrix(counts);
    }

    public int count(int trueClass, int predictedClass) {
        return counts[trueClass][predictedClass];
    }

    /** Examples whose true class is {@code trueClass}. */
    public int total(int trueClass) {
        int n = 0;
        for (int c : counts[trueClass]) {
            n += c;
        }
        return n;
    }

    /** Share of the class's examples predicted as that class (0 for a class absent from the test set). */
    public double recall(int c) {
        int total = total(c);
        return total == 0 ? 0 : (double) counts[c][c] / total;
    }

    public double accuracy() {
        long correct = 0;
        long all = 0;
        for (int r = 0; r < counts.length; r++) {
            correct += counts[r][r];
            all += total(r);
        }
        return all == 0 ? Double.NaN : (double) correct / all;
    }

    /** The wrong class this class is most often predicted as, or -1 if it is never mistaken. */
    public int mostFrequentMistake(int trueClass) {
        int best = -1;
        for (int c = 0; c < counts.length; c++) {
            if (c != trueClass && counts[trueClass][c] > 0 && (best < 0 || counts[trueClass][c] > counts[trueClass][best])) {
                best = c;
            }
        }
        return best;
    }
}
