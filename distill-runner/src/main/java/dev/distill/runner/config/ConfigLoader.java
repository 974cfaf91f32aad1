package dev.distill.runner.config;

import dev.distill.core.chain.Chain;

import dev.distill.core.chain.DistillationSettings;

import dev.distill.core.DistillException;
import dev.distill.core.data.Augmentation;
import dev.distill.core.train.CheckpointPolicy;
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
import java.io.Reader;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * YAML file (plus {@code --set key.path=value} overrides) → {@link ExperimentConfig}. The whole
 * config is checked here, once: keys, types, ranges, every model's shapes against the data's input,
 * every chain's names. Nothing downstream re-parses or re-checks it.
 */
public final class ConfigLoader {

    private static final Set<String> TOP_KEYS = Set.of("name", "seed", "data", "models", "distillation", "chains",
            "baseline", "seeds", "checkpoints", "stages", "sweep");
    private static final Set<String> DISTILLATION_KEYS = Set.of("method", "temperature", "soft_weight", "hard_weight",
            "alpha", "beta", "hint");
    private static final Set<String> TRAINING_KEYS = Set.of("epochs", "batch_size", "optimizer", "learning_rate",
            "schedule", "weight_decay", "augment");
    private static final Set<String> AUGMENT_KEYS = Set.of("shift", "flip", "mixup");
    private static final Map<String, Set<String>> LAYER_KEYS = new LinkedHashMap<>();

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

    private ConfigLoader() {
    }

    public static ExperimentConfig load(Path file) {
        return load(file, List.of());
    }

    /**
     * @param overrides {@code key.path=value} strings; the value is read as YAML ({@code seeds=[0,1]})
     */
    public static ExperimentConfig load(Path file, List<String> overrides) {
        return load(file, overrides, file.toAbsolutePath().getParent());
    }

    /**
     * As {@link #load(Path, List)}, with relative data and model paths resolved against {@code base}
     * instead of the file's directory (a run directory's copy of a config that lived elsewhere).
     */
    public static ExperimentConfig load(Path file, List<String> overrides, Path base) {
        return load(file, overrides, base, List.of());
    }

    /** @param loading the configs whose {@code from:} models led here, outermost first (a cycle is refused) */
    private static ExperimentConfig load(Path file, List<String> overrides, Path base, List<Path> loading) {
        if (!Files.isRegularFile(file)) {
            // not found, a directory, a device: said as such (an empty config is told below what it lacks)
            throw new DistillException(file + ": " + dev.distill.core.io.ModelFileCheck.problem(file, "config file"));
        }
        String text = ConfigText.read(file);
        Yaml yaml = new Yaml(new SafeConstructor(ConfigText.options()));
        ConfigText.checkStructure(yaml, text, file.toString());
        Node root = compose(yaml, file.toString(), new StringReader(text));
        if (root == null) {
            throw new ConfigException(file + ":1", "", "the config is empty; it needs at least name, data, models and chains");
        }
        Map<Node, String> overridden = new IdentityHashMap<>();
        for (String override : overrides) {
            applyOverride(yaml, root, override, overridden);
        }
        YamlMap.Locator locator = node -> {
            String source = overridden.get(node);
            return source != null ? source : file + ":" + (node.getStartMark().getLine() + 1);
        };
        java.io.StringWriter effective = new java.io.StringWriter();
        yaml.serialize(root, effective);
        List<Path> chain = new ArrayList<>(loading);
        chain.add(file.toAbsolutePath().normalize());
        return new Parser(locator, base, chain).experiment(new YamlMap(locator, "", root), file, effective.toString());
    }

    /** A {@code schedule:} mapping (a model's training, or a sweep's schedule axis). */
    static LearningRateSchedule schedule(YamlMap s) {
        return Parser.schedule(s);
    }

    private static Node compose(Yaml yaml, String where, Reader reader) {
        try {
            return yaml.compose(reader);
        } catch (MarkedYAMLException e) {
            int line = e.getProblemMark() != null ? e.getProblemMark().getLine() + 1 : 1;
            // a --set value is one line: its location is the option itself
            String location = where.startsWith("--set ") ? where : where + ":" + line;
            throw new ConfigException(location, "", "malformed YAML: " + oneLine(e.getProblem()));
        } catch (YAMLException e) {
            throw new ConfigException(where, "", "malformed YAML: " + oneLine(e.getMessage()));
        }
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s+", " ").trim();
    }

    /** Puts the value of {@code a.b.c=value} into the tree, creating mappings on the way. */
    private static void applyOverride(Yaml yaml, Node root, String override, Map<Node, String> overridden) {
        String where = "--set " + override;
        int eq = override.indexOf('=');
        if (eq <= 0) {
            throw new ConfigException(where, "", "expected key.path=value");
        }
        String[] keys = override.substring(0, eq).trim().split("\\.");
        ConfigText.checkStructure(yaml, override.substring(eq + 1), where);
        Node value = compose(yaml, where, new StringReader(override.substring(eq + 1)));
        if (value == null) {
            value = new ScalarNode(Tag.STR, "", null, null, org.yaml.snakeyaml.DumperOptions.ScalarStyle.PLAIN);
        }
        markAll(value, where, overridden);
        Node current = root;
        for (int i = 0; i < keys.length; i++) {
            if (!(current instanceof MappingNode mapping)) {
                throw new ConfigException(where, String.join(".", List.of(keys).subList(0, i)),
                        "is not a mapping, so it has no key " + keys[i]);
            }
            NodeTuple found = null;
            int index = -1;
            for (int t = 0; t < mapping.getValue().size(); t++) {
                NodeTuple tuple = mapping.getValue().get(t);
                if (tuple.getKeyNode() instanceof ScalarNode k && k.getValue().equals(keys[i])) {
                    found = tuple;
                    index = t;
                }
            }
            boolean last = i == keys.length - 1;
            if (found == null || last) {
                Node child = last ? value : new MappingNode(Tag.MAP, new ArrayList<>(),
                        org.yaml.snakeyaml.DumperOptions.FlowStyle.BLOCK);
                if (!last) {
                    overridden.put(child, where);
                }
                ScalarNode key = new ScalarNode(Tag.STR, keys[i], null, null,
                        org.yaml.snakeyaml.DumperOptions.ScalarStyle.PLAIN);
                overridden.put(key, where);
                NodeTuple tuple = new NodeTuple(key, child);
                if (found == null) {
                    mapping.getValue().add(tuple);
                } else {
                    mapping.getValue().set(index, tuple);
                }
                current = child;
            } else {
                current = found.getValueNode();
            }
        }
    }

    private static void markAll(Node node, String where, Map<Node, String> overridden) {
        overridden.put(node, where);
        if (node instanceof MappingNode m) {
            for (NodeTuple t : m.getValue()) {
                markAll(t.getKeyNode(), where, overridden);
                markAll(t.getValueNode(), where, overridden);
            }
        } else if (node instanceof SequenceNode s) {
            for (Node n : s.getValue()) {
                markAll(n, where, overridden);
            }
        }
    }

    /** Section readers; one instance per load. */
    private static final class Parser {
        private final YamlMap.Locator locator;
        private final Path base;
        private final List<Path> loading;

        Parser(YamlMap.Locator locator, Path base, List<Path> loading) {
            this.locator = locator;
            this.base = base;
            this.loading = loading;
        }

        ExperimentConfig experiment(YamlMap top, Path file, String effectiveYaml) {
            top.allowOnly(TOP_KEYS);
            String name = top.string("name");
            if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
                throw top.error("name", "use letters, digits, '.', '_' and '-' (it names the run directory), found '"
                        + name + "'");
            }
            long seed = top.longValue("seed", 0);
            DataConfig data = data(top.map("data"));
            Map<String, ModelConfig> models = models(top.map("models"), data);
            DistillationSettings defaults = top.has("distillation")
                    ? distillation(top.map("distillation"), DistillationSettings.DEFAULTS)
                    : DistillationSettings.DEFAULTS;
            List<Chain> chains = chains(top, models, defaults);
            boolean baseline = top.bool("baseline", true);
            List<Long> seeds = new ArrayList<>();
            if (top.has("seeds")) {
                List<Node> nodes = top.list("seeds");
                if (nodes.isEmpty()) {
                    throw top.error("seeds", "give at least one seed, e.g. seeds: [0, 1, 2]");
                }
                Set<Long> seen = new HashSet<>();
                for (Node n : nodes) {
                    long s = top.parseLong(n, top.child("seeds"));
                    if (!seen.add(s)) {
                        throw top.error(n, top.child("seeds"), "seed " + s + " appears twice");
                    }
                    seeds.add(s);
                }
            } else {
                seeds.add(seed);
            }
            CheckpointPolicy checkpoints = top.has("checkpoints") ? checkpoints(top.map("checkpoints"))
                    : CheckpointPolicy.DEFAULT;
            List<StageConfig> stages = StageParser.stages(top, models, chains);
            SweepConfig sweep = SweepParser.sweep(top, data, models, chains);
            return new ExperimentConfig(file, name, seed, data, models, defaults, chains, baseline, seeds,
                    effectiveYaml, checkpoints, stages, sweep);
        }

        CheckpointPolicy checkpoints(YamlMap c) {
            c.allowOnly(Set.of("every_epochs", "keep", "every_minutes"));
            CheckpointPolicy d = CheckpointPolicy.DEFAULT;
            return check(c, "", () -> new CheckpointPolicy(c.integer("every_epochs", d.everyEpochs()),
                    c.integer("keep", d.keep()), c.number("every_minutes", d.everyMinutes())));
        }

        DataConfig data(YamlMap d) {
            String dataset = d.string("dataset");
            Set<String> common = Set.of("dataset", "input", "classes", "batch_size", "validation_split", "test_split");
            DataSource source;
            InputShape defaultInput = null;
            int defaultClasses = -1;
            boolean hasTestFile;
            switch (dataset) {
                case "digits" -> {
                    d.allowOnly(union(common, Set.of("path")));
                    Path path = d.has("path") ? YamlMap.resolve(base, d.string("path")) : DefaultPaths.digits();
                    source = new DataSource.Digits(path);
                    defaultInput = InputShape.image(8, 8, 1);
                    defaultClasses = 10;
                    hasTestFile = false;
                }
                case "fashion-mnist" -> {
                    d.allowOnly(union(common, Set.of("path")));
                    Path path = d.has("path") ? YamlMap.resolve(base, d.string("path")) : dev.distill.runner.data.Datasets.FASHION_MNIST_DIR;
                    source = new DataSource.FashionMnist(path);
                    defaultInput = InputShape.image(28, 28, 1);
                    defaultClasses = 10;
                    hasTestFile = true;
                }
                case "idx" -> {
                    d.allowOnly(union(common, Set.of("train_images", "train_labels", "test_images", "test_labels",
                            "scale", "name")));
                    Path images = file(d, "train_images");
                    Path folder = images.toAbsolutePath().getParent();
                    String name = dataName(d, folder == null || folder.getFileName() == null ? "idx"
                            : folder.getFileName().toString());
                    source = new DataSource.Idx(name, images, file(d, "train_labels"),
                            file(d, "test_images"), file(d, "test_labels"), d.number("scale", 1.0 / 255));
                    hasTestFile = true;
                }
                case "csv" -> {
                    d.allowOnly(union(common, Set.of("train", "test", "label_column", "header", "scale", "name")));
                    Path test = d.has("test") ? file(d, "test") : null;
                    Path train = file(d, "train");
                    String name = dataName(d, train.getFileName().toString().replaceFirst("(\\.[A-Za-z0-9]+)+$", ""));
                    source = new DataSource.Csv(name, train, test, d.integer("label_column", -1),
                            d.bool("header", false), d.number("scale", 1.0));
                    hasTestFile = test != null;
                }
                default -> throw d.error("dataset", "unknown data set '" + dataset
                        + "'; known: digits, fashion-mnist, idx, csv");
            }
            InputShape input = d.has("input") ? input(d.map("input")) : defaultInput;
            if (input == null) {
                throw d.error("input", "missing required key: give {height, width, channels} for images or "
                        + "{features: N} for flat vectors");
            }
            int classes = d.has("classes") ? d.integer("classes") : defaultClasses;
            if (classes == -1) {
                throw d.error("classes", "missing required key: the number of classes");
            }
            if (classes < 2) {
                throw d.error("classes", "must be at least 2, found " + classes);
            }
            int batchSize = d.integer("batch_size", 64);
            if (batchSize < 1) {
                throw d.error("batch_size", "must be a positive integer, found " + batchSize);
            }
            double validation = fraction(d, "validation_split", 0.1);
            double test = fraction(d, "test_split", hasTestFile ? 0.0 : 0.2);
            if (hasTestFile && d.has("test_split")) {
                throw d.error("test_split", "this data set has its own test files; remove test_split");
            }
            if (!hasTestFile && test == 0) {
                throw d.error("test_split", "must be above 0: this data set has no test file");
            }
            return new DataConfig(source, input, classes, batchSize, validation, test);
        }

        /** {@code data.name}, the data set's name in summaries and reports, else {@code fallback}. */
        private static String dataName(YamlMap d, String fallback) {
            if (!d.has("name")) {
                return fallback;
            }
            String name = d.string("name");
            if (!name.matches("[A-Za-z0-9][A-Za-z0-9._ -]*")) {
                throw d.error("name", "use letters, digits, ' ', '.', '_' and '-', found '" + name + "'");
            }
            return name;
        }

        private Path file(YamlMap d, String key) {
            Path p = YamlMap.resolve(base, d.string(key));
            if (!Files.isRegularFile(p)) {
                throw d.error(key, "file not found: " + p);
            }
            return p;
        }

        private static double fraction(YamlMap d, String key, double fallback) {
            double v = d.number(key, fallback);
            if (!(v >= 0 && v < 0.9)) {
                throw d.error(key, "must be in [0, 0.9), found " + v);
            }
            return v;
        }

        InputShape input(YamlMap in) {
            if (in.has("features")) {
                in.allowOnly(Set.of("features"));
                return check(in, "features", () -> InputShape.flat(in.integer("features")));
            }
            in.allowOnly(Set.of("height", "width", "channels", "features"));
            return check(in, "height", () -> InputShape.image(in.integer("height"), in.integer("width"),
                    in.integer("channels", 1)));
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
                YamlMap model = m.map(name);
                if (model.has("file")) {
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
            l.allowOnly(union(keys, extra));
            return check(l, "type", () -> switch (type) {
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
            return check(t, "", () -> new TrainingSpec(t.integer("epochs", 10), t.integer("batch_size", data.batchSize()),
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
                    yield check(s, "", () -> new LearningRateSchedule.Step(s.number("gamma", 0.1),
                            s.integer("every_epochs")));
                }
                case "exponential" -> {
                    s.allowOnly(Set.of("type", "gamma"));
                    yield check(s, "", () -> new LearningRateSchedule.Exponential(s.number("gamma", 0.9)));
                }
                case "cosine" -> {
                    s.allowOnly(Set.of("type", "min_learning_rate"));
                    yield check(s, "", () -> new LearningRateSchedule.Cosine(s.number("min_learning_rate", 0)));
                }
                default -> throw s.error("type", "unknown schedule '" + type + "'; known: constant, step, exponential, cosine");
            };
        }

        DistillationSettings distillation(YamlMap d, DistillationSettings defaults) {
            d.allowOnly(DISTILLATION_KEYS);
            String name = d.has("method") ? d.string("method") : defaults.method().label();
            DistillationSettings.Method method = DistillationSettings.Method.byLabel(name);
            if (method == null) {
                throw d.error("method", DistillationSettings.Method.unknown(name));
            }
            // keys a method does not use are refused, so that a setting never silently does nothing
            for (String key : method == DistillationSettings.Method.KD ? List.of("alpha", "beta") : List.of("soft_weight")) {
                if (d.has(key)) {
                    throw d.error(key, key + " belongs to method " + (method == DistillationSettings.Method.KD
                            ? "dkd (decoupled KD); kd weighs its terms with soft_weight and hard_weight"
                            : "kd; dkd weighs its two soft terms with alpha and beta, and the labels with hard_weight"));
                }
            }
            // unset keys come from the enclosing block when it uses the same method, else from the method's defaults
            DistillationSettings base = defaults.startingPoint(method);
            double t = d.number("temperature", base.temperature());
            double hard = d.number("hard_weight", base.hardWeight());
            dev.distill.core.chain.Hint hint = d.has("hint") ? hint(d.map("hint")) : base.hint();
            try {
                return (method == DistillationSettings.Method.KD
                        ? DistillationSettings.kd(t, d.number("soft_weight", base.softWeight()), hard)
                        : DistillationSettings.dkd(t, d.number("alpha", base.alpha()), d.number("beta", base.beta()), hard))
                        .withHint(hint);
            } catch (dev.distill.core.SettingException e) {
                throw d.error(e.key(), e.getMessage());
            }
        }

        /**
         * A FitNets hint, {@code {student_layer: 0, teacher_layer: 4, epochs: 10, stage: two_stage}}: layer indices
         * from 0 as declared; epochs of the hint stage (0 or left out: the student's).
         */
        private dev.distill.core.chain.Hint hint(YamlMap h) {
            h.allowOnly(Set.of("student_layer", "teacher_layer", "epochs", "stage", "weight"));
            String stageName = h.string("stage", "two_stage");
            dev.distill.core.chain.Hint.Stage stage = switch (stageName) {
                case "two_stage" -> dev.distill.core.chain.Hint.Stage.TWO_STAGE;
                case "joint" -> dev.distill.core.chain.Hint.Stage.JOINT;
                default -> throw h.error("stage", "unknown stage '" + stageName + "'; known: two_stage (FitNets' own: "
                        + "the hint first, then the link's loss), joint (both losses summed, weight: w)");
            };
            if (stage == dev.distill.core.chain.Hint.Stage.TWO_STAGE && h.has("weight")) {
                throw h.error("weight", "weight belongs to stage: joint (the hint loss's weight in the summed loss); "
                        + "two stages train the hint alone first");
            }
            for (String key : List.of("student_layer", "teacher_layer")) {
                if (!h.has(key)) {
                    throw h.error(key, "missing: name the " + key.replace("_layer", "") + "'s layer by its index from 0, "
                            + "e.g. {student_layer: 0, teacher_layer: 4}");
                }
            }
            return check(h, "", () -> new dev.distill.core.chain.Hint(h.integer("student_layer"),
                    h.integer("teacher_layer"), h.integer("epochs", 0), stage, h.number("weight", 1)));
        }

        /** Why {@code settings}' hint cannot join {@code teacher} to {@code student}, or null (also without a hint). */
        private static String hintProblem(DistillationSettings settings, ModelConfig teacher, ModelConfig student) {
            if (settings.hint() == null) {
                return null;
            }
            if (teacher instanceof ModelConfig.Pretrained p) {
                // a .zip teacher's layers are known once it is read, and checked then
                return p.onnx() != null ? "hint: the ONNX teacher '" + p.name() + "' gives logits only; a hint needs "
                        + "a DL4J teacher (declared or .zip)" : null;
            }
            String problem = settings.hint().problem(((ModelConfig.Declared) teacher).network(),
                    ((ModelConfig.Declared) student).network());
            return problem == null ? null : "hint: " + problem;
        }

        List<Chain> chains(YamlMap top, Map<String, ModelConfig> models, DistillationSettings defaults) {
            List<Node> nodes = top.list("chains");
            if (nodes.isEmpty()) {
                throw top.error("chains", "declare at least one chain, e.g. [teacher, student]");
            }
            List<Chain> chains = new ArrayList<>();
            // a link (the path of names from the chain's root) shared by chains is one model: one loss
            Map<List<String>, DistillationSettings> links = new java.util.HashMap<>();
            // who teaches whom, over all chains: a loop (a student teaching its teacher) is refused
            Edges teaches = new Edges();
            for (int c = 0; c < nodes.size(); c++) {
                String where = top.child("chains") + "[" + c + "]";
                Node node = nodes.get(c);
                List<Node> names;
                DistillationSettings settings = defaults;
                if (node instanceof MappingNode && top.mapAt(node, where).has("ensemble")) {
                    chains.add(ensemble(top.mapAt(node, where), models, defaults));
                    continue;
                }
                if (node instanceof MappingNode && top.mapAt(node, where).has("mutual")) {
                    chains.add(mutual(top.mapAt(node, where), models, defaults));
                    continue;
                }
                if (node instanceof MappingNode && top.mapAt(node, where).has("born_again")) {
                    YamlMap chain = top.mapAt(node, where);
                    chain.allowOnly(Set.of("born_again", "generations", "distillation"));
                    names = bornAgain(chain, models);
                    if (chain.has("distillation")) {
                        settings = distillation(chain.map("distillation"), defaults);
                    }
                } else if (node instanceof MappingNode) {
                    YamlMap chain = top.mapAt(node, where);
                    chain.allowOnly(Set.of("models", "distillation"));
                    names = chain.list("models");
                    if (chain.has("distillation")) {
                        settings = distillation(chain.map("distillation"), defaults);
                    }
                } else if (node instanceof SequenceNode seq) {
                    names = seq.getValue();
                } else {
                    throw top.error(node, where, "expected a list of model names like [teacher, assistant, student],"
                            + " {models: [...], distillation: {...}}, {born_again: m}, {ensemble: [...], student: s}"
                            + " or {mutual: [a, b]}");
                }
                if (names.size() < 2) {
                    throw top.error(node, where, "a chain needs at least a teacher and a student");
                }
                List<String> chain = new ArrayList<>();
                for (int i = 0; i < names.size(); i++) {
                    String name = top.scalarText(names.get(i), where);
                    if (!models.containsKey(name)) {
                        throw top.error(names.get(i), where, "no model named '" + name + "'; declared models: "
                                + String.join(", ", models.keySet()));
                    }
                    if (chain.contains(name)) {
                        throw top.error(names.get(i), where, "'" + name + "' appears twice in the chain");
                    }
                    if (i > 0 && models.get(name) instanceof ModelConfig.Pretrained) {
                        throw top.error(names.get(i), where, "'" + name + "' is loaded from a file and is never "
                                + "trained, so it can only be the first model of a chain (the teacher)");
                    }
                    if (i > 0) {
                        String teacher = chain.get(i - 1);
                        List<String> back = teaches.path(name, teacher);
                        if (back != null) {
                            throw top.error(names.get(i), where, "'" + teacher + "' -> '" + name + "' closes a loop with "
                                    + "the chains before it (" + String.join(" -> ", back) + "): a model cannot be "
                                    + "distilled from its own student; drop one of the chains");
                        }
                        teaches.add(teacher, name);
                    }
                    chain.add(name);
                    if (i > 0) {
                        DistillationSettings earlier = links.putIfAbsent(List.copyOf(chain), settings);
                        if (earlier != null && !earlier.equals(settings)) {
                            throw top.error(names.get(i), where, String.join(" -> ", chain) + " is also in an earlier "
                                    + "chain with other distillation settings; give both chains the same settings, "
                                    + "or declare a second model under another name for the second setting");
                        }
                    }
                }
                for (int i = 1; i < chain.size(); i++) {
                    String problem = hintProblem(settings, models.get(chain.get(i - 1)), models.get(chain.get(i)));
                    if (problem != null) {
                        throw top.error(node, where, chain.get(i - 1) + " -> " + chain.get(i) + ": " + problem);
                    }
                }
                chains.add(new Chain(chain, settings));
            }
            return chains;
        }

        /**
         * An ensemble link, {@code {ensemble: [teacher, assistant], weights: [0.7, 0.3], student: student}}: the
         * teachers (of any kind: declared, .zip, ONNX; each a chain root, trained on labels alone) teach the
         * student through the weighted average of their softened probabilities; weights left out are equal.
         */
        private Chain ensemble(YamlMap chain, Map<String, ModelConfig> models, DistillationSettings defaults) {
            chain.allowOnly(Set.of("ensemble", "weights", "student", "distillation"));
            List<String> teachers = new ArrayList<>();
            for (Node n : chain.list("ensemble")) {
                String name = known(chain, n, chain.child("ensemble"), models);
                if (teachers.contains(name)) {
                    throw chain.error(n, chain.child("ensemble"), "'" + name + "' appears twice in the ensemble");
                }
                teachers.add(name);
            }
            if (!chain.has("student")) {
                throw chain.error("student", "missing: name the model the ensemble teaches, e.g. student: student");
            }
            String student = known(chain, chain.value("student"), chain.child("student"), models);
            if (models.get(student) instanceof ModelConfig.Pretrained) {
                throw chain.error("student", "'" + student + "' is loaded from a file and is never trained, so it "
                        + "cannot be the ensemble's student");
            }
            if (teachers.contains(student)) {
                throw chain.error("student", "'" + student + "' is one of the ensemble's teachers; it cannot also be "
                        + "its student");
            }
            List<Double> weights = null;
            if (chain.has("weights")) {
                weights = new ArrayList<>();
                for (Node n : chain.list("weights")) {
                    weights.add(chain.parseNumber(n, chain.child("weights")));
                }
            }
            // a hint joins one teacher to one student: one in the top block is not inherited here
            DistillationSettings settings = chain.has("distillation")
                    ? distillation(chain.map("distillation"), defaults.withHint(null)) : defaults.withHint(null);
            List<Double> w = weights;
            return check(chain, chain.has("weights") ? "weights" : "ensemble",
                    () -> Chain.ensemble(teachers, w, student, settings));
        }

        /**
         * Deep mutual learning, {@code {mutual: [student_a, student_b]}}: declared students trained together,
         * each distilled from the others' current predictions; they share epochs and batch size, none augments.
         */
        private Chain mutual(YamlMap chain, Map<String, ModelConfig> models, DistillationSettings defaults) {
            chain.allowOnly(Set.of("mutual", "distillation"));
            List<String> students = new ArrayList<>();
            ModelConfig.Declared first = null;
            for (Node n : chain.list("mutual")) {
                String name = known(chain, n, chain.child("mutual"), models);
                if (!(models.get(name) instanceof ModelConfig.Declared declared)) {
                    throw chain.error(n, chain.child("mutual"), "'" + name + "' is loaded from a file and is never "
                            + "trained; mutual learning trains every model it names");
                }
                if (students.contains(name)) {
                    throw chain.error(n, chain.child("mutual"), "'" + name + "' appears twice; for two students of one "
                            + "architecture declare a second model (e.g. with a YAML anchor) under another name");
                }
                first = first == null ? declared : first;
                String clash = dev.distill.core.chain.MutualLearning.clash(first.training(), declared.training());
                if (clash != null) {
                    throw chain.error(n, chain.child("mutual"), "'" + name + "' " + clash);
                }
                students.add(name);
            }
            // a hint joins one teacher to one student: one in the top block is not inherited here
            DistillationSettings settings = chain.has("distillation")
                    ? distillation(chain.map("distillation"), defaults.withHint(null)) : defaults.withHint(null);
            return check(chain, "mutual", () -> Chain.mutual(students, settings));
        }

        /** A model name of a chain, checked against the declared models. */
        private static String known(YamlMap chain, Node n, String where, Map<String, ModelConfig> models) {
            String name = chain.scalarText(n, where);
            if (!models.containsKey(name)) {
                throw chain.error(n, where, "no model named '" + name + "'; declared models: "
                        + String.join(", ", models.keySet()));
            }
            return name;
        }

        /** Generations a born-again chain may have: each is a full training of the teacher's architecture. */
        static final int MAX_GENERATIONS = 10;

        /**
         * A born-again chain (Furlanello et al. 2018, "Born-Again Neural Networks"): {@code {born_again: teacher,
         * generations: k}} is the chain teacher -> teacher_gen1 -> ... -> teacher_genk, where every
         * generation has the teacher's architecture and training and is distilled from the one before.
         * The generations are added to {@code models}; the names of the chain are returned, as nodes
         * located at the {@code born_again} value so that any later error points there.
         */
        private List<Node> bornAgain(YamlMap chain, Map<String, ModelConfig> models) {
            String first = chain.string("born_again");
            Node at = chain.value("born_again");
            if (!(models.get(first) instanceof ModelConfig.Declared declared)) {
                throw chain.error("born_again", models.containsKey(first)
                        ? "'" + first + "' is loaded from a file: a born-again chain retrains the teacher's architecture,"
                                + " so it needs a declared model (layers:, graph: or zoo:)"
                        : "no model named '" + first + "'; declared models: " + String.join(", ", models.keySet()));
            }
            int generations = chain.integer("generations", 2);
            if (generations < 1 || generations > MAX_GENERATIONS) {
                throw chain.error("generations", "must be between 1 and " + MAX_GENERATIONS + ", found " + generations);
            }
            List<Node> names = new ArrayList<>();
            names.add(at);
            for (int g = 1; g <= generations; g++) {
                String name = first + "_gen" + g;
                ModelConfig.Declared generation = new ModelConfig.Declared(name, declared.network(),
                        declared.training(), declared.cost());
                ModelConfig existing = models.putIfAbsent(name, generation);
                if (existing != null && !existing.equals(generation)) {
                    throw chain.error("born_again", "the born-again generation '" + name + "' would replace a declared "
                            + "model of that name; rename that model");
                }
                names.add(new ScalarNode(Tag.STR, name, at.getStartMark(), at.getEndMark(),
                        org.yaml.snakeyaml.DumperOptions.ScalarStyle.PLAIN));
            }
            return names;
        }

        /** Directed teacher -> student links between model names. */
        private static final class Edges {
            private final Map<String, Set<String>> next = new LinkedHashMap<>();

            void add(String from, String to) {
                next.computeIfAbsent(from, k -> new java.util.LinkedHashSet<>()).add(to);
            }

            /** The names on a path of links from {@code from} to {@code to}, or null if there is none. */
            List<String> path(String from, String to) {
                if (from.equals(to)) {
                    return List.of(from);
                }
                for (String n : next.getOrDefault(from, Set.of())) {
                    List<String> rest = path(n, to);
                    if (rest != null) {
                        List<String> all = new ArrayList<>(List.of(from));
                        all.addAll(rest);
                        return all;
                    }
                }
                return null;
            }
        }

        /** Turns the range checks of the typed records into located config errors. */
        private static <T> T check(YamlMap at, String key, Supplier<T> build) {
            try {
                return build.get();
            } catch (IllegalArgumentException e) {
                if (e instanceof SpecException) {
                    throw e;
                }
                String keyPath = key.isEmpty() ? at.path() : at.child(key);
                throw at.error(key.isEmpty() || !at.has(key) ? at.node() : at.value(key), keyPath, e.getMessage());
            }
        }

        private static Set<String> union(Set<String> a, Set<String> b) {
            Set<String> all = new HashSet<>(a);
            all.addAll(b);
            return all;
        }
    }
}
