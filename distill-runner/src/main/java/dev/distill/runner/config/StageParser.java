package dev.distill.runner.config;

import dev.distill.core.SettingException;
import dev.distill.core.chain.Chain;
import dev.distill.core.lowrank.LowRankFactorizer;
import dev.distill.core.lowrank.LowRankSettings;
import dev.distill.core.prune.MagnitudePruner;
import dev.distill.core.prune.Prunable;
import dev.distill.core.prune.PruneSettings;
import dev.distill.core.prune.StructuredPruner;
import dev.distill.core.quant.QuantSettings;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.nodes.Node;

/** The {@code stages:} list: every key checked against the models the stage applies to, with located errors. */
final class StageParser {

    private static final Set<String> PRUNE_KEYS = Set.of("type", "models", "method", "scope", "sparsity", "layers",
            "include_biases", "include_output", "schedule", "fine_tune_epochs", "rounds", "max_accuracy_drop", "loss",
            "learning_rate", "initial_sparsity", "start_epoch", "end_epoch", "update_every", "norm");
    private static final Set<String> LOW_RANK_KEYS = Set.of("type", "models", "energy", "param_ratio", "layers",
            "conv", "fine_tune_epochs", "loss", "learning_rate");

    private static final Set<String> QUANTIZE_KEYS = Set.of("type", "models", "scheme", "bits", "per_channel",
            "symmetric", "calibration", "init", "fine_tune_epochs", "qat", "huffman", "loss", "learning_rate");

    private static final Set<String> EXPORT_KEYS = Set.of("type", "models", "format");

    private StageParser() {
    }

    static List<StageConfig> stages(YamlMap top, Map<String, ModelConfig> models, List<Chain> chains) {
        if (!top.has("stages")) {
            return List.of();
        }
        Set<String> students = new LinkedHashSet<>();
        chains.forEach(c -> students.addAll(c.finalStudents()));
        List<StageConfig> stages = new ArrayList<>();
        List<Node> nodes = top.list("stages");
        // students whose layers an earlier low_rank stage may have split (and renumbered)
        Set<String> factorized = new LinkedHashSet<>();
        for (int i = 0; i < nodes.size(); i++) {
            YamlMap s = top.mapAt(nodes.get(i), top.child("stages") + "[" + i + "]");
            String type = s.string("type");
            // before the stage's own keys: they read the sequential spec a graph does not have
            List<String> named = s.has("models")
                    ? s.list("models").stream().map(n -> s.scalarText(n, s.child("models"))).toList() : List.of();
            if (!type.equals("export") && !type.equals("quantize")) {
                // export reads graphs as well as sequential networks; quantize codes them after training
                refuseGraphs(s, named, models, students);
            }
            StageConfig stage;
            if (type.equals("prune")) {
                stage = prune(i, s, models, students);
            } else if (type.equals("low_rank")) {
                stage = lowRank(i, s, models, students);
            } else if (type.equals("quantize")) {
                stage = quantize(i, s, students);
                graphsPostTrainingOnly(s, (StageConfig.Quantize) stage, named, models, students);
            } else if (type.equals("export")) {
                stage = export(i, s, students);
            } else {
                throw s.error("type", "unknown stage type '" + type + "'; known: prune, low_rank, quantize, export");
            }
            List<String> targets = stage.models().isEmpty() ? List.copyOf(students) : stage.models();
            if (s.has("layers") && targets.stream().anyMatch(factorized::contains)) {
                throw s.error("layers", "layer names are those of the declared model, and the low_rank stage "
                        + "before this one renumbers them: leave out layers: here, or put this stage first");
            }
            if (stage instanceof StageConfig.LowRank) {
                factorized.addAll(targets);
            }
            stages.add(stage);
        }
        return stages;
    }

    /** Stages work on sequential networks; a graph student is refused here, before anything trains. */
    private static void refuseGraphs(YamlMap s, List<String> named, Map<String, ModelConfig> models,
            Set<String> students) {
        for (String model : named.isEmpty() ? students : named) {
            if (models.get(model) instanceof ModelConfig.Declared d && !d.sequential()) {
                throw s.error("type", "model " + model + " is a graph model; this stage supports sequential models (layers:)"
                        + " only for now (quantize and export take graphs): name the sequential students in models:"
                        + " [...], or drop the stage");
            }
        }
    }

    /** A graph student is quantized after training only: nothing fine-tunes a graph's codes yet. */
    private static void graphsPostTrainingOnly(YamlMap s, StageConfig.Quantize stage, List<String> named,
            Map<String, ModelConfig> models, Set<String> students) {
        QuantSettings q = stage.settings();
        boolean tunes = q.qat() || q.fineTuneEpochs() > 0 && q.scheme() != QuantSettings.Scheme.INT8;
        for (String model : named.isEmpty() ? students : named) {
            if (tunes && models.get(model) instanceof ModelConfig.Declared d && !d.sequential()) {
                throw s.error(q.qat() ? "qat" : "fine_tune_epochs", "model " + model + " is a graph model, which is "
                        + "quantized after training only: set fine_tune_epochs: 0" + (q.qat() ? " and qat: false" : "")
                        + ", or name the sequential students in models: [...]");
            }
        }
    }

    private static StageConfig.Prune prune(int index, YamlMap s, Map<String, ModelConfig> models, Set<String> students) {
        s.allowOnly(PRUNE_KEYS);
        List<String> targets = targets(s, students);
        PruneSettings.Method method = s.enumValue("method", "magnitude", PruneSettings.Method.class);
        PruneSettings.Schedule schedule = s.enumValue("schedule", "one_shot", PruneSettings.Schedule.class);
        MagnitudePruner.Scope scope = s.enumValue("scope", "layer", MagnitudePruner.Scope.class);
        double sparsity = s.number("sparsity", Double.NaN);
        if (!s.has("sparsity")) {
            throw s.error("sparsity", "missing required key: the fraction of weights to prune, e.g. 0.8");
        }
        boolean includeOutput = s.bool("include_output", false);
        Map<String, Double> layers = new LinkedHashMap<>();
        if (s.has("layers")) {
            if (schedule == PruneSettings.Schedule.GRADUAL) {
                throw s.error("layers", "per-layer sparsity works with schedule one_shot or iterative");
            }
            YamlMap l = s.map("layers");
            for (String name : l.keys()) {
                for (String model : targets.isEmpty() ? students : targets) {
                    ModelConfig.Declared d = (ModelConfig.Declared) models.get(model);
                    List<String> known = method == PruneSettings.Method.STRUCTURED
                            ? StructuredPruner.layerNames(d.spec()) : Prunable.layerNames(d.spec(), includeOutput);
                    if (!known.contains(name)) {
                        throw l.error(l.keyNode(name), l.child(name), "no prunable layer '" + name + "' in model "
                                + model + "; its prunable layers: " + String.join(", ", known)
                                + (name.startsWith("output_") && !includeOutput ? " (set include_output: true)" : ""));
                    }
                }
                layers.put(name, l.number(name, 0));
            }
        }
        if (method == PruneSettings.Method.STRUCTURED) {
            for (String model : targets.isEmpty() ? students : targets) {
                ModelConfig.Declared d = (ModelConfig.Declared) models.get(model);
                try {
                    StructuredPruner.check(d.spec());
                } catch (IllegalArgumentException e) {
                    throw s.error("method", "model " + model + ": " + e.getMessage());
                }
            }
        }
        int epochs = s.integer("fine_tune_epochs", 2);
        boolean distillLoss = distillLoss(s);
        Double learningRate = learningRate(s);
        Double maxDrop = s.has("max_accuracy_drop") ? s.number("max_accuracy_drop", 0) : null;
        int start = s.integer("start_epoch", 0);
        int end = s.integer("end_epoch", Math.max(1, epochs - 1));
        if (schedule == PruneSettings.Schedule.GRADUAL && end <= start) {
            throw s.error(s.has("end_epoch") ? "end_epoch" : "start_epoch", "the schedule ends (end_epoch " + end
                    + ") before or where it starts (start_epoch " + start + ")");
        }
        try {
            PruneSettings settings = new PruneSettings(method, scope, sparsity, layers, s.bool("include_biases", false),
                    includeOutput, schedule, epochs, s.integer("rounds", 3), maxDrop,
                    s.number("initial_sparsity", 0), start, end, s.integer("update_every", 10),
                    s.enumValue("norm", "l1", StructuredPruner.Norm.class));
            return new StageConfig.Prune(index, targets, distillLoss, learningRate, settings);
        } catch (IllegalArgumentException e) {
            throw located(s, e);
        }
    }

    private static StageConfig.Quantize quantize(int index, YamlMap s, Set<String> students) {
        s.allowOnly(QUANTIZE_KEYS);
        List<String> targets = targets(s, students);
        if (!s.has("scheme")) {
            throw s.error(s.node(), s.path(), "missing required key 'scheme': int8, kmeans or binary");
        }
        QuantSettings.Scheme scheme = s.enumValue("scheme", "int8", QuantSettings.Scheme.class);
        int bits = s.integer("bits", switch (scheme) {
            case INT8 -> 8;
            case KMEANS -> 4;
            case BINARY -> 1;
        });
        QuantSettings.Calibration method = QuantSettings.Calibration.MINMAX;
        double percentile = 99.99;
        int batches = 10;
        if (s.has("calibration")) {
            YamlMap c = s.map("calibration");
            c.allowOnly(Set.of("method", "percentile", "batches"));
            method = c.enumValue("method", "minmax", QuantSettings.Calibration.class);
            percentile = c.number("percentile", percentile);
            batches = c.integer("batches", batches);
        }
        String init = s.string("init", "linear");
        if (!init.equals("linear") && !init.equals("kmeans++")) {
            throw s.error("init", "unknown value '" + init + "'; known: linear, kmeans++");
        }
        boolean qat = s.bool("qat", false);
        if (scheme == QuantSettings.Scheme.INT8 && !qat && s.has("fine_tune_epochs")) {
            throw s.error("fine_tune_epochs", "int8 is fine-tuned only with qat: true (post-training otherwise)");
        }
        try {
            QuantSettings settings = new QuantSettings(scheme, bits, s.bool("per_channel", true),
                    s.bool("symmetric", true), method, percentile, batches,
                    init.equals("linear") ? QuantSettings.Init.LINEAR : QuantSettings.Init.KMEANS_PLUS_PLUS,
                    s.integer("fine_tune_epochs", 2), qat, s.bool("huffman", false));
            return new StageConfig.Quantize(index, targets, distillLoss(s), learningRate(s), settings);
        } catch (IllegalArgumentException e) {
            throw located(s, e);
        }
    }

    private static StageConfig.LowRank lowRank(int index, YamlMap s, Map<String, ModelConfig> models,
            Set<String> students) {
        s.allowOnly(LOW_RANK_KEYS);
        List<String> targets = targets(s, students);
        if (s.has("energy") == s.has("param_ratio")) {
            throw s.has("energy")
                    ? s.error("param_ratio", "energy is set too: choose each layer's rank by one of them")
                    : s.error(s.node(), s.path(), "missing key energy or param_ratio: the fraction of the squared "
                            + "singular values each layer keeps (energy: 0.9) or of its parameters (param_ratio: 0.5)");
        }
        List<String> layers = new ArrayList<>();
        if (s.has("layers")) {
            for (Node n : s.list("layers")) {
                String name = s.scalarText(n, s.child("layers"));
                for (String model : targets.isEmpty() ? students : targets) {
                    List<String> known = LowRankFactorizer.layerNames(((ModelConfig.Declared) models.get(model)).spec());
                    if (!known.contains(name)) {
                        throw s.error(n, s.child("layers"), "no layer '" + name + "' to factorize in model " + model
                                + "; its dense and conv2d layers: " + String.join(", ", known));
                    }
                }
                if (layers.contains(name)) {
                    throw s.error(n, s.child("layers"), "'" + name + "' is listed twice");
                }
                layers.add(name);
            }
        }
        try {
            LowRankSettings settings = new LowRankSettings(s.has("energy") ? s.number("energy", 0) : null,
                    s.has("param_ratio") ? s.number("param_ratio", 0) : null, layers,
                    s.enumValue("conv", "filters", LowRankSettings.Conv.class), s.integer("fine_tune_epochs", 2));
            return new StageConfig.LowRank(index, targets, distillLoss(s), learningRate(s), settings);
        } catch (IllegalArgumentException e) {
            throw located(s, e);
        }
    }

    private static StageConfig.Export export(int index, YamlMap s, Set<String> students) {
        s.allowOnly(EXPORT_KEYS);
        List<String> targets = targets(s, students);
        if (!s.has("format")) {
            throw s.error(s.node(), s.path(), "missing required key 'format': onnx");
        }
        String format = s.string("format");
        if (!format.equals("onnx")) {
            throw s.error("format", "unknown format '" + format + "'; known: onnx");
        }
        return new StageConfig.Export(index, targets, format);
    }

    /** The {@code models:} a stage is limited to: each must end a chain. */
    private static List<String> targets(YamlMap s, Set<String> students) {
        List<String> targets = new ArrayList<>();
        if (s.has("models")) {
            for (Node n : s.list("models")) {
                String name = s.scalarText(n, s.child("models"));
                if (!students.contains(name)) {
                    throw s.error(n, s.child("models"), "'" + name + "' is not the last model of any chain; stages "
                            + "apply to the chains' final students: " + String.join(", ", students));
                }
                targets.add(name);
            }
        }
        return targets;
    }

    private static boolean distillLoss(YamlMap s) {
        String loss = s.string("loss", "distill");
        if (!loss.equals("distill") && !loss.equals("hard")) {
            throw s.error("loss", "unknown value '" + loss + "'; known: distill (from the student's teacher), hard");
        }
        return loss.equals("distill");
    }

    private static Double learningRate(YamlMap s) {
        if (!s.has("learning_rate")) {
            return null;
        }
        double learningRate = s.number("learning_rate", 0);
        if (!(learningRate > 0)) {
            throw s.error("learning_rate", "must be positive, found " + learningRate);
        }
        return learningRate;
    }

    /** A settings record's refusal placed at its key ({@link YamlMap#error(SettingException)}), else at the stage. */
    private static ConfigException located(YamlMap s, IllegalArgumentException e) {
        return e instanceof SettingException se ? s.error(se) : s.error(s.node(), s.path(), e.getMessage());
    }
}
