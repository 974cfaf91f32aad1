package dev.distill.runner.config;

import dev.distill.core.data.Augmentation;
import dev.distill.core.train.LearningRateSchedule;
import dev.distill.core.train.Optimizer;
import dev.distill.core.train.TrainingSpec;
import dev.distill.models.spec.Activation;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.LayerSpec;
import dev.distill.models.spec.LayerSpec.Padding;
import dev.distill.models.spec.LayerSpec.PoolType;
import dev.distill.models.spec.ModelCost;
import dev.distill.models.spec.ModelSpec;
import dev.distill.models.spec.NetworkSpec;
import dev.distill.models.zoo.Zoo;
import dev.distill.models.spec.SpecException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.nodes.Node;

/**
 * The {@code models:} block: each model declared (layers, a graph or a zoo name, with its training and
 * augmentation), loaded from a file (DL4J or ONNX), or taken from another config ({@code from:}); every
 * declared model's shapes are checked against the data's input here.
 */
final class ModelParser {

    static final Set<String> TRAINING_KEYS = Set.of("epochs", "batch_size", "optimizer", "learning_rate",
            "schedule", "weight_decay", "augment");
    static final Set<String> AUGMENT_KEYS = Set.of("shift", "flip", "mixup");
    static final Map<String, Set<String>> LAYER_KEYS = new LinkedHashMap<>();

    static {
        LAYER_KEYS.put("dense", Set.of("type", "units", "activation"));
        LAYER_KEYS.put("conv2d", Set.of("type", "filters", "kernel", "stride", "padding", "activation"));
        LAYER_KEYS.put("depthwise_conv2d", Set.of("type", "kernel", "multiplier", "stride", "padding", "activation"));
        LAYER_KEYS.put("separable_conv2d",
                Set.of("type", "filters", "kernel", "multiplier", "stride", "padding", "activation"));
        LAYER_KEYS.put("max_pool", Set.of("type", "size", "stride"));
        LAYER_KEYS.put("avg_pool", Set.of("type", "size", "stride"));
        LAYER_KEYS.put("global_pool", Set.of("type", "pool"));
        LAYER_KEYS.put("batch_norm", Set.of("type"));
        LAYER_KEYS.put("activation", Set.of("type", "activation"));
        LAYER_KEYS.put("dropout", Set.of("type", "rate"));
        LAYER_KEYS.put("output", Set.of("type", "classes"));
    }

    private final YamlMap.Locator locator;
    private final Path base;
    /** The configs whose {@code from:} models led to this one, outermost first (a cycle is refused). */
    private final List<Path> loading;

    ModelParser(YamlMap.Locator locator, Path base, List<Path> loading) {
        this.locator = locator;
        this.base = base;
        this.loading = loading;
    }

    Map<String, ModelConfig> models(YamlMap m, DataConfig data) {
        if (m.keys().isEmpty()) {
            throw m.error(m.node(), m.path(), "declare at least two models (a teacher and a student)");
        }
        Map<String, ModelConfig> models = new LinkedHashMap<>();
        for (String name : m.keys()) {
            if (!name.matches("[A-Za-z0-9][A-Za-z0-9_]*")) {
                throw m.error(m.keyNode(name), m.child(name),
                        "model names use letters, digits and '_' (they name files), found '" + name + "'");
            }
            if (m.value(name) instanceof org.yaml.snakeyaml.nodes.ScalarNode scalar
                    && scalar.getValue().equals(AUTO)) {
                models.put(name, new ModelConfig.Auto(name, dev.distill.core.chain.AssistantFamily.DEFAULT,
                        training(null, data), List.of()));
                continue;
            }
            YamlMap model = m.map(name);
            if (model.has(AUTO)) {
                models.put(name, auto(name, model, data));
            } else if (model.has("file")) {
                model.allowOnly(Set.of("file"));
                Path file = YamlMap.resolve(base, model.string("file"));
                String problem = dev.distill.core.io.ModelFileCheck.problem(file);
                if (problem != null) {
                    throw model.error("file", file + ": " + problem);
                }
                models.put(name, new ModelConfig.Pretrained(name, file));
            } else if (model.has("from")) {
                models.put(name, dependency(name, model, data));
            } else if (model.has("onnx")) {
                models.put(name, OnnxModelParser.pretrained(name, model, base, data));
            } else {
                model.allowOnly(Set.of("layers", "graph", "zoo", "width", "depth", "training", "file", "from"));
                models.put(name, declared(name, model, data));
            }
        }
        return models;
    }

    /** The key, or the value, that declares an automatic teacher assistant. */
    static final String AUTO = "auto";

    /**
     * {@code {auto: {count: 3} | {widths: [32, 64]}, training: {...}}}: an automatic teacher assistant, its
     * family checked here and its candidates made when its chain is known ({@link ChainParser#autoAssistants}).
     */
    private ModelConfig.Auto auto(String name, YamlMap model, DataConfig data) {
        model.allowOnly(Set.of(AUTO, "training"));
        dev.distill.core.chain.AssistantFamily family = dev.distill.core.chain.AssistantFamily.DEFAULT;
        if (!(model.value(AUTO) instanceof org.yaml.snakeyaml.nodes.ScalarNode s && s.getValue().equals("true"))) {
            YamlMap a = model.map(AUTO);
            a.allowOnly(Set.of("count", "widths"));
            if (a.has("widths")) {
                List<Integer> widths = new ArrayList<>();
                for (Node n : a.list("widths")) {
                    double w = a.parseNumber(n, a.child("widths"));
                    if (w != Math.rint(w) || w < 1 || w > 1_000_000) {
                        throw a.error(n, a.child("widths"), "a width is a positive whole number of units or filters, "
                                + "found " + YamlMap.describe(n));
                    }
                    widths.add((int) w);
                }
                family = YamlMap.check(a, "widths", () -> a.has("count")
                        ? new dev.distill.core.chain.AssistantFamily(widths, a.integer("count"))
                        : dev.distill.core.chain.AssistantFamily.widths(widths));
            } else if (a.has("count")) {
                family = YamlMap.check(a, "count", () -> dev.distill.core.chain.AssistantFamily.count(a.integer("count")));
            }
        }
        return new ModelConfig.Auto(name, family, training(model.has("training") ? model.map("training") : null, data),
                List.of());
    }

    /**
     * {@code {from: other.yaml, model: id, run: dir}}: the model {@code id} of a run of another config,
     * which is loaded and checked now; {@code run} (relative to this file) defaults to {@code runs/<its
     * name>} under the working directory, where {@code distill run} writes too.
     */
    private ModelConfig.Pretrained dependency(String name, YamlMap model, DataConfig data) {
        model.allowOnly(Set.of("from", "model", "run"));
        Path file = YamlMap.resolve(base, model.string("from")).toAbsolutePath().normalize();
        if (!Files.isRegularFile(file)) {
            throw model.error("from", "config file not found: " + file);
        }
        if (loading.contains(file)) {
            List<String> names = new ArrayList<>(loading.subList(loading.indexOf(file), loading.size()).stream()
                    .map(p -> p.getFileName().toString()).toList());
            names.add(file.getFileName().toString());
            throw model.error("from", "configs that train each other's models: " + String.join(" -> ", names));
        }
        ExperimentConfig other = ConfigLoader.load(file, List.of(), file.getParent(), loading);
        if (!other.data().input().equals(data.input()) || other.data().classes() != data.classes()) {
            throw model.error("from", file.getFileName() + " trains on input " + other.data().input() + " with "
                    + other.data().classes() + " classes, but this config's data has input " + data.input()
                    + " and " + data.classes() + " classes");
        }
        if (!model.has("model")) {
            throw model.error("model", "name the model of " + file.getFileName() + " to use, by its id in that "
                    + "config's plan (distill validate " + file.getFileName() + " lists them), e.g. model: teacher");
        }
        Path run = model.has("run") ? YamlMap.resolve(base, model.string("run"))
                : Path.of("runs", other.name()).toAbsolutePath();
        DependencyRun from = new DependencyRun(other, model.string("model"), run,
                locator.locate(model.value("model")), model.child("model"));
        return new ModelConfig.Pretrained(name, from.modelFile(), null, from);
    }

    private ModelConfig.Declared declared(String name, YamlMap model, DataConfig data) {
        List<String> kinds = java.util.stream.Stream.of("layers", "graph", "zoo").filter(model::has).toList();
        if (kinds.size() != 1) {
            throw model.error(model.node(), model.path(), kinds.isEmpty()
                    ? "declare the model with layers: (a list), graph: (named blocks), zoo: (a name), file: (a DL4J "
                            + "zip), onnx: (an .onnx file) or from: (another config's model)"
                    : "give one of " + String.join(", ", kinds) + ", not both");
        }
        if (!kinds.get(0).equals("zoo") && (model.has("width") || model.has("depth"))) {
            throw model.error(model.has("width") ? "width" : "depth", "multipliers apply to zoo: models only");
        }
        String key = kinds.get(0);
        List<Node> layerNodes = key.equals("zoo") ? List.of() : model.list(key);
        String layersPath = model.child(key);
        NetworkSpec spec;
        ModelCost cost;
        try {
            spec = switch (key) {
                case "zoo" -> zoo(model, data);
                case "graph" -> GraphParser.graph(model, layerNodes, layersPath,
                        (l, extra) -> layer(l, data.classes(), extra));
                default -> {
                    List<LayerSpec> layers = new ArrayList<>();
                    for (int i = 0; i < layerNodes.size(); i++) {
                        YamlMap layer = model.mapAt(layerNodes.get(i), layersPath + "[" + i + "]");
                        layers.add(layer(layer, data.classes()));
                    }
                    yield new ModelSpec(layers);
                }
            };
            cost = spec.cost(data.input(), data.classes());
        } catch (SpecException e) {
            if (key.equals("zoo")) {
                throw model.error("zoo", e.getMessage() + " (input " + data.input() + ")");
            }
            Node at = e.layerIndex() >= 0 ? layerNodes.get(e.layerIndex()) : model.value(key);
            String where = e.layerIndex() >= 0 ? layersPath + "[" + e.layerIndex() + "]" : layersPath;
            throw model.error(at, where, e.getMessage() + " (input " + data.input() + ")");
        }
        TrainingSpec training = training(model.has("training") ? model.map("training") : null, data);
        return new ModelConfig.Declared(name, spec, training, cost);
    }

    /** A zoo architecture at the model's width and depth multipliers. */
    private static NetworkSpec zoo(YamlMap model, DataConfig data) {
        double width = model.number("width", 1);
        double depth = model.number("depth", 1);
        for (String key : List.of("width", "depth")) {
            if (!(model.number(key, 1) > 0)) {
                throw model.error(key, "must be positive, found " + model.number(key, 1));
            }
        }
        try {
            return Zoo.spec(model.string("zoo"), width, depth, data.classes());
        } catch (SpecException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw model.error("zoo", e.getMessage());
        }
    }

    LayerSpec layer(YamlMap l, int classes) {
        return layer(l, classes, Set.of());
    }

    /** A layer; {@code extra} are keys the surrounding list allows too (a graph block's name, inputs, repeat). */
    LayerSpec layer(YamlMap l, int classes, Set<String> extra) {
        String type = l.string("type");
        Set<String> keys = LAYER_KEYS.get(type);
        if (keys == null) {
            String known = String.join(", ", LAYER_KEYS.keySet())
                    + (extra.isEmpty() ? "" : ", " + String.join(", ", GraphParser.blockTypes()));
            throw l.error("type", "unknown " + (extra.isEmpty() ? "layer" : "block") + " type '" + type
                    + "'; known: " + known);
        }
        l.allowOnly(YamlMap.union(keys, extra));
        return YamlMap.check(l, "type", () -> switch (type) {
            case "dense" -> new LayerSpec.Dense(l.integer("units"), activation(l));
            case "conv2d" -> new LayerSpec.Conv2d(l.integer("filters"), l.integer("kernel", 3),
                    l.integer("stride", 1), padding(l), activation(l));
            case "depthwise_conv2d" -> new LayerSpec.DepthwiseConv2d(l.integer("kernel", 3),
                    l.integer("multiplier", 1), l.integer("stride", 1), padding(l), activation(l));
            case "separable_conv2d" -> new LayerSpec.SeparableConv2d(l.integer("filters"), l.integer("kernel", 3),
                    l.integer("multiplier", 1), l.integer("stride", 1), padding(l), activation(l));
            case "max_pool", "avg_pool" -> {
                int size = l.integer("size", 2);
                yield new LayerSpec.Pool(type.equals("max_pool") ? PoolType.MAX : PoolType.AVG, size,
                        l.integer("stride", size));
            }
            case "global_pool" -> new LayerSpec.GlobalPool(enumValue(l, "pool", "avg", PoolType.class));
            case "batch_norm" -> new LayerSpec.BatchNorm();
            case "activation" -> new LayerSpec.Activate(activation(l));
            case "dropout" -> new LayerSpec.Dropout(l.number("rate", 0.5));
            case "output" -> new LayerSpec.Output(l.integer("classes", classes));
            default -> throw new IllegalStateException(type);
        });
    }

    private static Activation activation(YamlMap l) {
        return enumValue(l, "activation", "relu", Activation.class);
    }

    private static Padding padding(YamlMap l) {
        return enumValue(l, "padding", "same", Padding.class);
    }

    private static <E extends Enum<E>> E enumValue(YamlMap l, String key, String fallback, Class<E> type) {
        return l.enumValue(key, fallback, type);
    }

    TrainingSpec training(YamlMap t, DataConfig data) {
        if (t == null) {
            return new TrainingSpec(10, data.batchSize(), Optimizer.ADAM, 1e-3,
                    new LearningRateSchedule.Constant(), 0);
        }
        t.allowOnly(TRAINING_KEYS);
        LearningRateSchedule schedule = t.has("schedule") ? schedule(t.map("schedule"))
                : new LearningRateSchedule.Constant();
        Augmentation augment = t.has("augment") ? augment(t.map("augment"), data.input()) : Augmentation.NONE;
        return YamlMap.check(t, "", () -> new TrainingSpec(t.integer("epochs", 10), t.integer("batch_size", data.batchSize()),
                enumValue(t, "optimizer", "adam", Optimizer.class), t.number("learning_rate", 1e-3), schedule,
                t.number("weight_decay", 0), augment));
    }

    /** A training's {@code augment:} mapping; translation and flips need the data's input to be an image. */
    static Augmentation augment(YamlMap a, InputShape input) {
        a.allowOnly(AUGMENT_KEYS);
        int shift = a.integer("shift", 0);
        if (shift < 0) {
            throw a.error("shift", "must be a non-negative number of pixels (0: no translation), found " + shift);
        }
        double mixup = a.number("mixup", 0);
        if (!(mixup >= 0) || Double.isInfinite(mixup)) {
            throw a.error("mixup", "must be a non-negative alpha (0: off, 0.2 is usual), found " + mixup);
        }
        boolean flip = a.bool("flip", false);
        if ((shift > 0 || flip) && !input.image()) {
            throw a.error(shift > 0 ? "shift" : "flip", "needs an image input (data.input with height and width), "
                    + "the data's input is " + input);
        }
        return new Augmentation(shift, flip, mixup);
    }

    static LearningRateSchedule schedule(YamlMap s) {
        String type = s.string("type");
        return switch (type) {
            case "constant" -> {
                s.allowOnly(Set.of("type"));
                yield new LearningRateSchedule.Constant();
            }
            case "step" -> {
                s.allowOnly(Set.of("type", "gamma", "every_epochs"));
                yield YamlMap.check(s, "", () -> new LearningRateSchedule.Step(s.number("gamma", 0.1),
                        s.integer("every_epochs")));
            }
            case "exponential" -> {
                s.allowOnly(Set.of("type", "gamma"));
                yield YamlMap.check(s, "", () -> new LearningRateSchedule.Exponential(s.number("gamma", 0.9)));
            }
            case "cosine" -> {
                s.allowOnly(Set.of("type", "min_learning_rate"));
                yield YamlMap.check(s, "", () -> new LearningRateSchedule.Cosine(s.number("min_learning_rate", 0)));
            }
            default -> throw s.error("type", "unknown schedule '" + type + "'; known: constant, step, exponential, cosine");
        };
    }
}
