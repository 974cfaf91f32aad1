package dev.distill.runner.config;

import dev.distill.core.chain.Chain;

import dev.distill.core.chain.DistillationSettings;

import dev.distill.core.train.LearningRateSchedule;
import dev.distill.runner.config.SweepConfig.Point;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * The {@code sweep:} block: a {@code grid} (every combination of the listed values) or a list of
 * {@code points}, each value range-checked where it is written, every point checked against the links
 * it applies to, and the grid expanded here, once.
 */
final class SweepParser {

    /** The axes, in the order a grid nests them (the last varies fastest). */
    private static final List<String> AXES = List.of("method", "temperature", "soft_weight", "hard_weight", "alpha",
            "beta", "epochs", "learning_rate", "schedule", "weight_decay");
    /** Points of a grid beyond which a typo (an extra value, an extra axis) is more likely than intent. */
    static final int MAX_POINTS = 500;

    private SweepParser() {
    }

    /** The sweep of the config, or null when it has none. */
    static SweepConfig sweep(YamlMap top, DataConfig data, Map<String, ModelConfig> models, List<Chain> chains) {
        if (!top.has("sweep")) {
            return null;
        }
        YamlMap s = top.map("sweep");
        s.allowOnly(Set.of("models", "grid", "points"));
        if (!(data.validationSplit() > 0)) {
            throw s.error(s.node(), s.path(), "a sweep chooses on the validation split, and data.validation_split "
                    + "is 0; set it, e.g. validation_split: 0.1");
        }
        List<String> names = models(s, models, chains);
        if (s.has("grid") && s.has("points")) {
            throw s.error(s.keyNode("points"), s.child("points"),
                    "give either grid (every combination) or points (a list), not both");
        }
        if (!s.has("grid") && !s.has("points")) {
            throw s.error("grid", "missing: give grid: {temperature: [1, 2, 4], soft_weight: [0.1, 0.5]} or "
                    + "points: [{...}, ...]");
        }
        List<Point> points = s.has("grid") ? grid(s.map("grid")) : points(s);
        for (Chain chain : chains) {
            for (String model : chain.distilled()) {
                if (names.contains(model)) {
                    checkWeights(s, points, chain.distillation(), model);
                }
            }
        }
        return new SweepConfig(names, points);
    }

    private static List<String> models(YamlMap s, Map<String, ModelConfig> models, List<Chain> chains) {
        Set<String> inChains = new LinkedHashSet<>();
        Set<String> distilled = new LinkedHashSet<>();
        for (Chain c : chains) {
            inChains.addAll(c.models());
            // mutual students train as a group, never one point at a time: a sweep does not choose their settings
            if (c.kind() != Chain.Kind.MUTUAL) {
                distilled.addAll(c.distilled());
            }
        }
        if (!s.has("models")) {
            return List.copyOf(distilled);
        }
        List<String> names = new ArrayList<>();
        List<Node> nodes = s.list("models");
        if (nodes.isEmpty()) {
            throw s.error("models", "empty list; name the models to sweep, or leave the key out to sweep every "
                    + "distilled model (" + String.join(", ", distilled) + ")");
        }
        for (Node n : nodes) {
            String name = s.scalarText(n, s.child("models"));
            if (!inChains.contains(name)) {
                throw s.error(n, s.child("models"), "'" + name + "' is in no chain; models of the chains: "
                        + String.join(", ", inChains));
            }
            if (models.get(name) instanceof ModelConfig.Pretrained) {
                throw s.error(n, s.child("models"), "'" + name + "' is loaded from a file and never trained, so "
                        + "there is nothing to sweep");
            }
            if (models.get(name) instanceof ModelConfig.Auto) {
                throw s.error(n, s.child("models"), "'" + name + "' is an automatic assistant, and its candidates "
                        + "and their students are already chosen on validation; sweep the models of other chains");
            }
            if (chains.stream().anyMatch(c -> c.kind() == Chain.Kind.MUTUAL && c.models().contains(name))) {
                throw s.error(n, s.child("models"), "'" + name + "' is a mutual student, trained with its group, "
                        + "not one sweep point at a time: set its group's distillation block instead");
            }
            names.add(name);
        }
        return names;
    }

    private static List<Point> grid(YamlMap g) {
        g.allowOnly(Set.copyOf(AXES));
        if (g.keys().isEmpty()) {
            throw g.error(g.node(), g.path(), "empty grid; give at least one axis, e.g. temperature: [1, 2, 4]");
        }
        List<Point> points = List.of(new Point(null, null, null, null, null, null, null, null, null, null));
        long size = 1;
        for (String axis : AXES) {
            if (!g.has(axis)) {
                continue;
            }
            List<Node> values = g.list(axis);
            if (values.isEmpty()) {
                throw g.error(axis, "empty list; give at least one value");
            }
            size *= values.size();
            if (size > MAX_POINTS) {
                throw g.error(axis, "the grid has more than " + MAX_POINTS + " points; list fewer values");
            }
            List<Point> next = new ArrayList<>();
            for (Point p : points) {
                for (Node v : values) {
                    next.add(with(p, axis, v, g, g.child(axis)));
                }
            }
            points = next;
        }
        return points.stream().map(SweepParser::defaultHardWeight).toList();
    }

    private static List<Point> points(YamlMap s) {
        List<Node> nodes = s.list("points");
        if (nodes.isEmpty()) {
            throw s.error("points", "empty list; give at least one point, e.g. - {temperature: 2, soft_weight: 0.5}");
        }
        List<Point> points = new ArrayList<>();
        Set<String> labels = new LinkedHashSet<>();
        for (int i = 0; i < nodes.size(); i++) {
            YamlMap m = s.mapAt(nodes.get(i), s.child("points") + "[" + i + "]");
            m.allowOnly(Set.copyOf(AXES));
            if (m.keys().isEmpty()) {
                throw m.error(m.node(), m.path(), "empty point; set at least one of " + String.join(", ", AXES));
            }
            Point p = new Point(null, null, null, null, null, null, null, null, null, null);
            for (String axis : AXES) {
                if (m.has(axis)) {
                    p = with(p, axis, m.value(axis), m, m.child(axis));
                }
            }
            p = defaultHardWeight(p);
            if (!labels.add(p.label())) {
                throw m.error(m.node(), m.path(), "the same point as an earlier one (" + p.label() + ")");
            }
            points.add(p);
        }
        return points;
    }

    /** {@code p} with the value of one axis, read from {@code v} and range-checked. */
    private static Point with(Point p, String axis, Node v, YamlMap at, String where) {
        return switch (axis) {
            case "method" -> {
                String name = at.scalarText(v, where);
                DistillationSettings.Method method = DistillationSettings.Method.byLabel(name);
                if (method == null) {
                    throw at.error(v, where, DistillationSettings.Method.unknown(name));
                }
                yield new Point(p.temperature(), p.softWeight(), p.hardWeight(), p.epochs(), p.learningRate(),
                        p.schedule(), p.weightDecay(), method, p.alpha(), p.beta());
            }
            case "temperature" -> {
                double t = number(v, at, where);
                try {
                    dev.distill.core.loss.SoftTargetLoss.checkTemperature(t);
                } catch (dev.distill.core.SettingException e) {
                    throw at.error(v, where, e.getMessage());
                }
                yield new Point(t, p.softWeight(), p.hardWeight(), p.epochs(), p.learningRate(), p.schedule(),
                        p.weightDecay(), p.method(), p.alpha(), p.beta());
            }
            case "soft_weight" -> new Point(p.temperature(), weight(v, at, where), p.hardWeight(), p.epochs(),
                    p.learningRate(), p.schedule(), p.weightDecay(), p.method(), p.alpha(), p.beta());
            case "hard_weight" -> new Point(p.temperature(), p.softWeight(), weight(v, at, where), p.epochs(),
                    p.learningRate(), p.schedule(), p.weightDecay(), p.method(), p.alpha(), p.beta());
            case "alpha", "beta" -> {
                double w = number(v, at, where);
                try {
                    dev.distill.core.loss.SoftTargetLoss.checkWeight(axis, w);
                } catch (dev.distill.core.SettingException e) {
                    throw at.error(v, where, e.getMessage());
                }
                yield axis.equals("alpha")
                        ? new Point(p.temperature(), p.softWeight(), p.hardWeight(), p.epochs(), p.learningRate(),
                                p.schedule(), p.weightDecay(), p.method(), w, p.beta())
                        : new Point(p.temperature(), p.softWeight(), p.hardWeight(), p.epochs(), p.learningRate(),
                                p.schedule(), p.weightDecay(), p.method(), p.alpha(), w);
            }
            case "epochs" -> {
                double e = number(v, at, where);
                if (!(e >= 1 && e == Math.rint(e) && e <= 100_000)) {
                    throw at.error(v, where, "must be a positive integer, found " + YamlMap.describe(v));
                }
                yield new Point(p.temperature(), p.softWeight(), p.hardWeight(), (int) e, p.learningRate(),
                        p.schedule(), p.weightDecay(), p.method(), p.alpha(), p.beta());
            }
            case "learning_rate" -> {
                double lr = number(v, at, where);
                if (!(lr > 0)) {
                    throw at.error(v, where, "must be positive, found " + lr);
                }
                yield new Point(p.temperature(), p.softWeight(), p.hardWeight(), p.epochs(), lr, p.schedule(),
                        p.weightDecay(), p.method(), p.alpha(), p.beta());
            }
            case "schedule" -> {
                LearningRateSchedule schedule = ModelParser.schedule(at.mapAt(v, where));
                yield new Point(p.temperature(), p.softWeight(), p.hardWeight(), p.epochs(), p.learningRate(),
                        schedule, p.weightDecay(), p.method(), p.alpha(), p.beta());
            }
            case "weight_decay" -> {
                double wd = number(v, at, where);
                if (!(wd >= 0)) {
                    throw at.error(v, where, "must be non-negative, found " + wd);
                }
                yield new Point(p.temperature(), p.softWeight(), p.hardWeight(), p.epochs(), p.learningRate(),
                        p.schedule(), wd, p.method(), p.alpha(), p.beta());
            }
            default -> throw new IllegalStateException(axis);
        };
    }

    /** A sweep of soft_weight alone keeps the two weights summing to one, as the other tools' alpha does. */
    private static Point defaultHardWeight(Point p) {
        if (p.softWeight() == null || p.hardWeight() != null) {
            return p;
        }
        return new Point(p.temperature(), p.softWeight(), 1 - p.softWeight(), p.epochs(), p.learningRate(),
                p.schedule(), p.weightDecay(), p.method(), p.alpha(), p.beta());
    }

    private static void checkWeights(YamlMap s, List<Point> points, DistillationSettings link, String model) {
        String key = s.has("grid") ? "grid" : "points";
        for (Point p : points) {
            DistillationSettings.Method method = p.method() != null ? p.method() : link.method();
            if (method != DistillationSettings.Method.KD && p.softWeight() != null) {
                throw s.error(s.keyNode(key), s.child(key), "point " + p.label() + " sets soft_weight, but " + model
                        + " is distilled with method " + method.label() + " there, which has no soft_weight");
            }
            if (method != DistillationSettings.Method.DKD && (p.alpha() != null || p.beta() != null)) {
                throw s.error(s.keyNode(key), s.child(key), "point " + p.label() + " sets "
                        + (p.alpha() != null ? "alpha" : "beta") + ", but " + model + " is distilled with method "
                        + method.label() + " there; alpha and beta belong to dkd (add method: [dkd] to the sweep)");
            }
            try {
                p.distillation(link);
            } catch (IllegalArgumentException e) {
                throw s.error(s.keyNode(key), s.child(key), "point " + p.label() + " gives " + model + ": " + e.getMessage());
            }
        }
    }

    private static double weight(Node v, YamlMap at, String where) {
        double w = number(v, at, where);
        if (!(w >= 0 && w <= 1)) {
            throw at.error(v, where, "must be in [0, 1], found " + w);
        }
        return w;
    }

    private static double number(Node v, YamlMap at, String where) {
        if (v instanceof SequenceNode) {
            throw at.error(v, where, "expected a number, found a list (a grid lists values: temperature: [1, 2])");
        }
        return at.parseNumber(v, where);
    }
}
