package dev.distill.runner.bench;

import java.util.Arrays;
import java.util.List;

/** Medians and percentiles of timings; the benchmark reports these, never a single timing. */
final class Stopwatch {

    private Stopwatch() {
    }

    /** Seconds {@code work} takes. */
    static double seconds(Runnable work) {
        long start = System.nanoTime();
        work.run();
        return (System.nanoTime() - start) / 1e9;
    }

    static double median(List<Double> values) {
        return percentile(values, 50);
    }

    /** The {@code p}-th percentile by the nearest-rank rule (p in (0, 100]). */
    static double percentile(List<Double> values, double p) {
        if (values.isEmpty()) {
            throw new IllegalArgumentException("no values");
        }
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }
}
