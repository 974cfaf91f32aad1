package dev.distill.runner.report;

import dev.distill.runner.report.RunSummary.ModelEntry;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.commons.math3.stat.StatUtils;
import org.apache.commons.math3.stat.inference.TTest;

/**
 * Did distillation help? Every distilled model that has a baseline (the same architecture trained on
 * labels alone, same seeds) gets the gain in mean test accuracy, its standard error, and Welch's
 * two-sided t-test, so that "helped" is a claim the seeds support, not one the defaults assume.
 */
public final class KdVerdict {

    /** The p-value below which a gain (or loss) is called real. */
    public static final double SIGNIFICANCE = 0.05;

    private KdVerdict() {
    }

    /** {@code entries} with the verdict of every distilled model that has a baseline filled in. */
    public static List<ModelEntry> attach(List<ModelEntry> entries) {
        List<ModelEntry> out = new ArrayList<>(entries.size());
        for (ModelEntry m : entries) {
            boolean distilledChainModel = m.distillation().distilledFrom() != null && m.stageResult().stage() == null;
            ModelEntry baseline = distilledChainModel ? baselineOf(m, entries) : null;
            out.add(baseline == null ? m : judge(m, baseline));
        }
        return out;
    }

    private static ModelEntry baselineOf(ModelEntry distilled, List<ModelEntry> entries) {
        return entries.stream()
                .filter(e -> "baseline".equals(e.role()) && e.model().equals(distilled.model()))
                .findFirst().orElse(null);
    }

    private static ModelEntry judge(ModelEntry distilled, ModelEntry baseline) {
        double[] kd = perSeed(distilled);
        double[] base = perSeed(baseline);
        double gain = StatUtils.mean(kd) - StatUtils.mean(base);
        if (kd.length < 2 || base.length < 2) {
            return distilled.withVerdict(new RunSummary.Verdict(gain, null, null, String.format(Locale.ROOT,
                    "%+.2f points against %s on one seed: too few seeds to tell", 100 * gain, baseline.id())));
        }
        double stdError = Math.sqrt(StatUtils.variance(kd) / kd.length + StatUtils.variance(base) / base.length);
        Double p = stdError > 0 ? new TTest().tTest(kd, base) : null;
        return distilled.withVerdict(new RunSummary.Verdict(gain, stdError, p,
                words(gain, stdError, p, baseline.id())));
    }

    private static double[] perSeed(ModelEntry m) {
        List<Double> seeds = m.seeds().testAccuracyPerSeed();
        return seeds == null || seeds.isEmpty() ? new double[] {m.testAccuracy()}
                : seeds.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** "helped", "hurt" or "none": the gain's sign when Welch's p is below {@link #SIGNIFICANCE}, else none. */
    static String outcome(Double gain, Double p) {
        return p == null || p >= SIGNIFICANCE ? "none" : gain > 0 ? "helped" : "hurt";
    }

    /** "distillation helped by 0.90 ± 0.30 points, p=0.010" and the like; gain and error as fractions. */
    static String words(double gain, double stdError, Double p, String baselineId) {
        String figures = String.format(Locale.ROOT, "%.2f ± %.2f points vs %s, Welch p=%s", 100 * Math.abs(gain),
                100 * stdError, baselineId, p == null ? "n/a (no spread)" : String.format(Locale.ROOT, "%.3f", p));
        String outcome = outcome(gain, p);
        if (!outcome.equals("none")) {
            return "distillation " + outcome + " by " + figures;
        }
        return String.format(Locale.ROOT, "distillation did not help (%s%.2f ± %.2f points vs %s, Welch p=%s)",
                gain < 0 ? "-" : "+", 100 * Math.abs(gain), 100 * stdError, baselineId,
                p == null ? "n/a" : String.format(Locale.ROOT, "%.3f", p));
    }
}
