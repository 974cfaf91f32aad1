package dev.distill.runner.config;

import dev.distill.core.chain.DistillationSettings;

import dev.distill.core.train.LearningRateSchedule;
import dev.distill.core.train.TrainingSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The config's {@code sweep:} block: settings to try for some links of the chains, each trained over
 * the configured seeds and chosen on the validation split. A link not swept trains with its own
 * settings. Immutable; checked by {@link SweepParser}.
 *
 * @param models names of the models whose links are swept (a distilled model: every link that trains
 *               it; a teacher or a model's baseline: its training axes only)
 * @param points the points to try, in the order they run (a grid already expanded)
 */
public record SweepConfig(List<String> models, List<Point> points) {

    public SweepConfig {
        models = List.copyOf(models);
        points = List.copyOf(points);
        if (points.isEmpty()) {
            throw new IllegalArgumentException("a sweep needs at least one point");
        }
    }

    /** Whether the links that train {@code model} are swept. */
    public boolean sweeps(String model) {
        return models.contains(model);
    }

    /**
     * One setting to try. A null field keeps the link's own value (its chain's distillation, its
     * model's training). {@code hardWeight} is never null when {@code softWeight} is set: it defaults
     * to {@code 1 - softWeight} when the sweep does not name it.
     */
    public record Point(Double temperature, Double softWeight, Double hardWeight, Integer epochs, Double learningRate,
            LearningRateSchedule schedule, Double weightDecay, DistillationSettings.Method method, Double alpha,
            Double beta) {

        /** The label of a point that sets nothing: the link's own settings. */
        public static final String OWN = "own";

        /** The link's distillation with this point's values put in. */
        public DistillationSettings distillation(DistillationSettings link) {
            // another method than the link's starts from that method's defaults, as a chain's block does
            DistillationSettings base = method == null ? link : link.startingPoint(method);
            return base.with(temperature != null ? temperature : base.temperature(),
                    softWeight != null ? softWeight : base.softWeight(),
                    hardWeight != null ? hardWeight : base.hardWeight(),
                    alpha != null ? alpha : base.alpha(), beta != null ? beta : base.beta());
        }

        /** The model's training with this point's values put in. */
        public TrainingSpec training(TrainingSpec base) {
            return new TrainingSpec(epochs != null ? epochs : base.epochs(), base.batchSize(), base.optimizer(),
                    learningRate != null ? learningRate : base.learningRate(),
                    schedule != null ? schedule : base.schedule(), weightDecay != null ? weightDecay : base.weightDecay(),
                    base.augment());
        }

        /** The same point without its distillation axes: what a model trained on labels alone can use of it. */
        public Point trainingOnly() {
            return new Point(null, null, null, epochs, learningRate, schedule, weightDecay, null, null, null);
        }

        public boolean hasDistillationAxes() {
            return temperature != null || softWeight != null || hardWeight != null || method != null || alpha != null
                    || beta != null;
        }

        /**
         * A short name built from the values set, usable in file names: {@code dkd-T2-h0.5-e20-lr0.001-cosine}
         * ({@code own} for a point that sets nothing).
         */
        public String label() {
            List<String> parts = new ArrayList<>();
            if (method != null) {
                parts.add(method.label());
            }
            add(parts, "T", temperature);
            add(parts, "s", softWeight);
            add(parts, "h", hardWeight);
            add(parts, "a", alpha);
            add(parts, "b", beta);
            if (epochs != null) {
                parts.add("e" + epochs);
            }
            add(parts, "lr", learningRate);
            if (schedule != null) {
                parts.add(describe(schedule));
            }
            add(parts, "wd", weightDecay);
            return parts.isEmpty() ? OWN : String.join("-", parts);
        }

        private static void add(List<String> parts, String prefix, Double value) {
            if (value != null) {
                parts.add(prefix + number(value));
            }
        }
    }

    /** {@code 0.5}, {@code 2}, {@code 1e-05}: the shortest plain form of a setting. */
    public static String number(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e6) {
            return Long.toString((long) v);
        }
        return String.format(Locale.ROOT, "%.6g", v).replaceAll("\\.?0+($|e)", "$1");
    }

    /** A schedule in a few characters: {@code constant}, {@code step0.1x5}, {@code exp0.9}, {@code cosine}. */
    public static String describe(LearningRateSchedule s) {
        if (s instanceof LearningRateSchedule.Step step) {
            return "step" + number(step.gamma()) + "x" + step.everyEpochs();
        }
        if (s instanceof LearningRateSchedule.Exponential e) {
            return "exp" + number(e.gamma());
        }
        if (s instanceof LearningRateSchedule.Cosine c) {
            return c.minRate() == 0 ? "cosine" : "cosine" + number(c.minRate());
        }
        return "constant";
    }
}
