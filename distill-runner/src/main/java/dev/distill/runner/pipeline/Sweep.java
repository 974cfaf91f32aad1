package dev.distill.runner.pipeline;

import dev.distill.core.chain.Plan;

import dev.distill.runner.config.ModelConfig;
import dev.distill.runner.config.SweepConfig;
import dev.distill.runner.config.SweepConfig.Point;
import dev.distill.runner.report.RunSummary.SweepEntry;
import dev.distill.runner.report.RunSummary.SweepPoint;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.math3.stat.descriptive.SummaryStatistics;

/**
 * The sweep of one link: every point trained over the seeds, then the point with the best mean
 * validation accuracy chosen. Selection sees validation accuracies and nothing else; the test split
 * is read only for the chosen point, after the choice, by the caller.
 *
 * <p>Each point and seed is its own training unit, {@code <id>@<label>} with that seed, so an
 * interrupted sweep resumes like any other run: finished units are read back, not trained again.
 */
public final class Sweep {

    /** Where the points' models are kept, beside {@code models/}, which holds only the chosen ones. */
    static final String DIR = "sweep";

    /**
     * One point as a link runs it.
     *
     * @param node  the unit: id {@code <link id>@<label>}, the point's distillation settings
     * @param model the link's model with the point's training settings
     */
    record Unit(Point point, Plan.Node node, ModelConfig.Declared model) {
    }

    /** Trains (or reads back, if finished earlier) one unit with one seed; it never reads the test split. */
    interface UnitTrainer {
        Progress.Finished train(Unit unit, long seed);
    }

    /** The chosen unit, and what {@code summary.json} says of the whole sweep. */
    record Outcome(Unit chosen, SweepEntry entry) {
    }

    private Sweep() {
    }

    /**
     * The units of a link. A distilled link tries every point; a model trained on labels alone (a
     * teacher, a baseline) tries each distinct training setting among them once, so a baseline is
     * tuned over the same epochs and learning rates as the students it is compared with.
     */
    static List<Unit> units(SweepConfig sweep, Plan.Node node, ModelConfig.Declared model) {
        Map<String, Point> points = new LinkedHashMap<>();
        for (Point p : sweep.points()) {
            Point used = node.distilled() ? p : p.trainingOnly();
            points.putIfAbsent(used.label(), used);
        }
        List<Unit> units = new ArrayList<>();
        for (Point p : points.values()) {
            Plan.Node unit = node.variant(node.id() + "@" + p.label(),
                    node.distilled() ? p.distillation(node.distillation()) : null);
            units.add(new Unit(p, unit, new ModelConfig.Declared(model.name(), model.network(),
                    p.training(model.training()), model.cost())));
        }
        return units;
    }

    /**
     * Whether the link is swept: its model is named, and it has something to try (a model trained on
     * labels alone is left as it is when the sweep changes only distillation settings).
     */
    static boolean applies(SweepConfig sweep, Plan.Node node, ModelConfig.Declared model) {
        if (!sweep.sweeps(node.model()) || node.mutual()) {
            return false;
        }
        List<Unit> units = units(sweep, node, model);
        return units.size() > 1 || !units.get(0).point().label().equals(Point.OWN);
    }

    /** The labels of the points a link tries, in order; empty when the link is not swept (for {@code validate}). */
    public static List<String> labels(dev.distill.runner.config.ExperimentConfig config, Plan.Node node) {
        if (config.sweep() == null || !(config.models().get(node.model()) instanceof ModelConfig.Declared d)
                || !applies(config.sweep(), node, d)
                || ExperimentPlan.chosenByAutoAssistant(config, ExperimentPlan.of(config), node)) {
            return List.of();
        }
        return units(config.sweep(), node, d).stream().map(u -> u.point().label()).toList();
    }

    /** Trains every unit over the seeds, in order, and chooses on validation accuracy. */
    static Outcome run(Plan.Node link, List<Unit> units, List<Long> seeds, UnitTrainer trainer) {
        List<List<Progress.Finished>> results = new ArrayList<>();
        for (Unit unit : units) {
            List<Progress.Finished> perSeed = new ArrayList<>();
            for (long seed : seeds) {
                perSeed.add(trainer.train(unit, seed));
            }
            results.add(perSeed);
        }
        List<double[]> validation = results.stream()
                .map(r -> r.stream().mapToDouble(f -> f.result().bestValidationAccuracy()).toArray()).toList();
        int chosen = select(validation);
        List<SweepPoint> points = new ArrayList<>();
        for (int i = 0; i < units.size(); i++) {
            points.add(point(units.get(i), validation.get(i),
                    results.get(i).stream().mapToDouble(f -> f.result().seconds()).sum(), i == chosen));
        }
        return new Outcome(units.get(chosen), new SweepEntry(link.id(), link.model(), link.role().label(),
                units.get(chosen).point().label(), points));
    }

    /** The index of the point chosen: {@link dev.distill.core.chain.ValidationChoice#best}, the framework's one rule. */
    static int select(List<double[]> validationPerPoint) {
        return dev.distill.core.chain.ValidationChoice.best(validationPerPoint);
    }

    private static SweepPoint point(Unit unit, double[] validation, double seconds, boolean chosen) {
        SummaryStatistics stats = stats(validation);
        var d = unit.node().distillation();
        var t = unit.model().training();
        List<Double> perSeed = new ArrayList<>();
        for (double v : validation) {
            perSeed.add(v);
        }
        return new SweepPoint(unit.point().label(), d == null ? null : d.temperature(),
                d == null ? null : d.softWeightOrNull(), d == null ? null : d.hardWeight(), t.epochs(), t.learningRate(),
                SweepConfig.describe(t.schedule()), t.weightDecay(), stats.getMean(),
                validation.length > 1 ? stats.getStandardDeviation() : null, perSeed, seconds, chosen,
                d == null ? null : d.alphaOrNull(), d == null ? null : d.betaOrNull());
    }

    private static SummaryStatistics stats(double[] values) {
        SummaryStatistics s = new SummaryStatistics();
        for (double v : values) {
            s.addValue(v);
        }
        return s;
    }
}
