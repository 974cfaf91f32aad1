package dev.distill.runner.config;

import dev.distill.core.chain.Chain;
import dev.distill.core.chain.DistillationSettings;
import dev.distill.core.DistillException;
import dev.distill.core.train.CheckpointPolicy;
import java.io.Reader;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
 * every chain's names. Nothing downstream re-parses or re-checks it. This class reads the YAML, applies
 * the overrides and the top-level keys; each block has its parser: {@link DataParser}, {@link ModelParser}
 * (models, training, layers), {@link ChainParser} (chains and distillation), {@link StageParser},
 * {@link SweepParser}.
 */
public final class ConfigLoader {

    private static final Set<String> TOP_KEYS = Set.of("name", "seed", "data", "models", "distillation", "chains",
            "baseline", "seeds", "checkpoints", "stages", "sweep");

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
    static ExperimentConfig load(Path file, List<String> overrides, Path base, List<Path> loading) {
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
                // a mapping reached through an alias (*name) is shared with every other use of its anchor:
                // the override changes a copy of it on this path only, never the anchor's other uses
                current = found.getValueNode() instanceof MappingNode shared ? copyOf(shared, overridden)
                        : found.getValueNode();
                mapping.getValue().set(index, new NodeTuple(found.getKeyNode(), current));
            }
        }
    }

    /** A mapping with the same entries and source marks (for error lines), its children still shared. */
    private static MappingNode copyOf(MappingNode node, Map<Node, String> overridden) {
        MappingNode copy = new MappingNode(node.getTag(), true, new ArrayList<>(node.getValue()), node.getStartMark(),
                node.getEndMark(), node.getFlowStyle());
        if (overridden.containsKey(node)) {
            overridden.put(copy, overridden.get(node));
        }
        return copy;
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

    /** The top level of one config: its own keys, and each block through its parser. */
    private static final class Parser {
        private final DataParser data;
        private final ModelParser models;

        Parser(YamlMap.Locator locator, Path base, List<Path> loading) {
            data = new DataParser(base);
            models = new ModelParser(locator, base, loading);
        }

        ExperimentConfig experiment(YamlMap top, Path file, String effectiveYaml) {
            top.allowOnly(TOP_KEYS);
            String name = top.string("name");
            if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
                throw top.error("name", "use letters, digits, '.', '_' and '-' (it names the run directory), found '"
                        + name + "'");
            }
            long seed = top.longValue("seed", 0);
            DataConfig data = this.data.data(top.map("data"));
            Map<String, ModelConfig> models = this.models.models(top.map("models"), data);
            DistillationSettings defaults = top.has("distillation")
                    ? ChainParser.distillation(top.map("distillation"), DistillationSettings.DEFAULTS)
                    : DistillationSettings.DEFAULTS;
            List<Chain> chains = ChainParser.chains(top, models, defaults);
            ChainParser.autoAssistants(top, models, chains, data);
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
            return YamlMap.check(c, "", () -> new CheckpointPolicy(c.integer("every_epochs", d.everyEpochs()),
                    c.integer("keep", d.keep()), c.number("every_minutes", d.everyMinutes())));
        }
    }
}
