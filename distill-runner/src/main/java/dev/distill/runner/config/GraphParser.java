package dev.distill.runner.config;

import dev.distill.models.spec.Activation;
import dev.distill.models.spec.BlockSpec;
import dev.distill.models.spec.GraphSpec;
import dev.distill.models.spec.LayerSpec;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;

/**
 * A model's {@code graph:} list: named blocks with {@code inputs} and {@code repeat}, each block a
 * composite block or any layer type of {@code layers:}, with located errors. Wiring and shapes are
 * checked by {@link GraphSpec#cost}, whose errors the loader places at the block's line.
 */
final class GraphParser {

    /** Keys every block may have besides its type's own. */
    static final Set<String> BLOCK_KEYS = Set.of("name", "inputs", "repeat");
    private static final Map<String, Set<String>> KEYS = new LinkedHashMap<>();

    static {
        KEYS.put("separable", Set.of("type", "filters", "kernel", "stride", "activation"));
        KEYS.put("bottleneck", Set.of("type", "filters", "reduce", "kernel", "stride", "activation"));
        KEYS.put("residual", Set.of("type", "filters", "kernel", "stride", "activation"));
        KEYS.put("dense_block", Set.of("type", "layers", "growth", "kernel", "activation"));
        KEYS.put("group_conv", Set.of("type", "filters", "kernel", "groups", "stride", "shuffle", "activation"));
        KEYS.put("add", Set.of("type"));
        KEYS.put("concat", Set.of("type"));
    }

    private GraphParser() {
    }

    /** Block types beyond the layer types (for messages). */
    static Set<String> blockTypes() {
        return KEYS.keySet();
    }

    /**
     * @param layer reads a plain layer block, allowing the given extra keys (the loader's layer reader)
     */
    static GraphSpec graph(YamlMap model, List<Node> nodes, String path,
            BiFunction<YamlMap, Set<String>, LayerSpec> layer) {
        List<GraphSpec.Block> blocks = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            YamlMap b = model.mapAt(nodes.get(i), path + "[" + i + "]");
            String type = b.string("type");
            String name = b.string("name", type + "_" + i);
            List<String> inputs = new ArrayList<>();
            if (b.has("inputs")) {
                Node in = b.value("inputs");
                List<Node> names = in instanceof ScalarNode ? List.of(in) : b.list("inputs");
                for (Node n : names) {
                    inputs.add(b.scalarText(n, b.child("inputs")));
                }
            }
            BlockSpec spec;
            Set<String> keys = KEYS.get(type);
            if (keys == null) {
                spec = new BlockSpec.Layer(layer.apply(b, BLOCK_KEYS));
            } else {
                b.allowOnly(union(keys, BLOCK_KEYS));
                spec = check(b, "type", () -> block(type, b));
            }
            int repeat = b.integer("repeat", 1);
            blocks.add(check(b, b.has("repeat") ? "repeat" : "type", () -> new GraphSpec.Block(name, inputs, spec,
                    repeat)));
        }
        return new GraphSpec(blocks);
    }

    private static BlockSpec block(String type, YamlMap b) {
        Activation activation = b.enumValue("activation", "relu", Activation.class);
        return switch (type) {
            case "separable" -> new BlockSpec.Separable(b.integer("filters"), b.integer("kernel", 3),
                    b.integer("stride", 1), activation);
            case "bottleneck" -> {
                int filters = b.integer("filters");
                yield new BlockSpec.Bottleneck(filters, b.integer("reduce", Math.max(1, filters / 4)),
                        b.integer("kernel", 3), b.integer("stride", 1), activation);
            }
            case "residual" -> new BlockSpec.Residual(b.integer("filters"), b.integer("kernel", 3),
                    b.integer("stride", 1), activation);
            case "dense_block" -> new BlockSpec.DenseBlock(b.integer("layers"), b.integer("growth"),
                    b.integer("kernel", 3), activation);
            case "group_conv" -> new BlockSpec.GroupConv(b.integer("filters"), b.integer("kernel", 3),
                    b.integer("groups"), b.integer("stride", 1), b.bool("shuffle", false), activation);
            case "add" -> new BlockSpec.Add();
            case "concat" -> new BlockSpec.Concat();
            default -> throw new IllegalStateException(type);
        };
    }

    /** The records' range checks as located errors: at the key they name, else at the block. */
    private static <T> T check(YamlMap at, String fallbackKey, Supplier<T> build) {
        try {
            return build.get();
        } catch (IllegalArgumentException e) {
            String key = e.getMessage().split(" ", 2)[0];
            throw at.error(at.has(key) ? key : fallbackKey, e.getMessage());
        }
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> all = new HashSet<>(a);
        all.addAll(b);
        return all;
    }
}
