package dev.distill.runner.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.commons.text.similarity.LevenshteinDistance;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Typed, located reads from a YAML mapping composed by SnakeYAML (a node tree: no object is ever
 * constructed from a tag, so a config cannot instantiate classes). Every read knows its key path
 * and line, so that every error can say where it is and what would be right.
 */
final class YamlMap {

    private final Locator locator;
    private final String path;
    private final Node node;
    /** Where a missing key is reported: the line of the key that holds this mapping, when there is one. */
    private final Node owner;
    private final Map<String, NodeTuple> entries = new LinkedHashMap<>();

    /** Tells where a node came from: a file and line, or a command-line override. */
    interface Locator {
        String locate(Node node);
    }

    YamlMap(Locator locator, String path, Node node) {
        this(locator, path, node, node);
    }

    private YamlMap(Locator locator, String path, Node node, Node owner) {
        this.locator = locator;
        this.path = path;
        this.node = node;
        this.owner = owner;
        if (!(node instanceof MappingNode mapping)) {
            throw error(node, path, "expected a mapping (key: value lines), found " + describe(node));
        }
        for (NodeTuple tuple : mapping.getValue()) {
            if (!(tuple.getKeyNode() instanceof ScalarNode key)) {
                throw error(tuple.getKeyNode(), path, "keys must be plain names");
            }
            if (entries.put(key.getValue(), tuple) != null) {
                throw error(key, child(key.getValue()), "key appears twice");
            }
        }
    }

    String path() {
        return path;
    }

    Node node() {
        return node;
    }

    /** Rejects keys not in {@code known}, naming the known ones, nearest first. */
    void allowOnly(Set<String> known) {
        for (Map.Entry<String, NodeTuple> e : entries.entrySet()) {
            if (!known.contains(e.getKey())) {
                LevenshteinDistance distance = LevenshteinDistance.getDefaultInstance();
                String suggestions = known.stream()
                        .sorted(Comparator.comparingInt((String k) -> distance.apply(k, e.getKey()))
                                .thenComparing(Comparator.naturalOrder()))
                        .collect(Collectors.joining(", "));
                throw error(e.getValue().getKeyNode(), child(e.getKey()),
                        "unknown key; known keys here: " + suggestions);
            }
        }
    }

    boolean has(String key) {
        return entries.containsKey(key);
    }

    Set<String> keys() {
        return entries.keySet();
    }

    /** The node of a present key. */
    Node value(String key) {
        NodeTuple tuple = entries.get(key);
        if (tuple == null) {
            throw error(owner, child(key), "missing required key");
        }
        return tuple.getValueNode();
    }

    Node keyNode(String key) {
        return entries.get(key).getKeyNode();
    }

    String child(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    YamlMap map(String key) {
        return new YamlMap(locator, child(key), value(key), keyNode(key));
    }

    String string(String key) {
        return scalar(key).getValue();
    }

    String string(String key, String fallback) {
        return has(key) ? string(key) : fallback;
    }

    int integer(String key) {
        String text = string(key);
        try {
            return Integer.parseInt(text.replace("_", ""));
        } catch (NumberFormatException e) {
            throw error(value(key), child(key), "expected an integer, found '" + text + "'");
        }
    }

    int integer(String key, int fallback) {
        return has(key) ? integer(key) : fallback;
    }

    long longValue(String key, long fallback) {
        if (!has(key)) {
            return fallback;
        }
        return parseLong(value(key), child(key));
    }

    double number(String key, double fallback) {
        if (!has(key)) {
            return fallback;
        }
        return parseNumber(value(key), child(key));
    }

    /** A finite number written at {@code n} (a value of this mapping, or an element of a list in it). */
    double parseNumber(Node n, String where) {
        String text = scalarText(n, where);
        try {
            double v = Double.parseDouble(text.replace("_", ""));
            if (Double.isNaN(v) || Double.isInfinite(v)) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw error(n, where, "expected a number, found '" + text + "'");
        }
    }

    boolean bool(String key, boolean fallback) {
        if (!has(key)) {
            return fallback;
        }
        String text = string(key);
        return switch (text) {
            case "true", "True", "TRUE", "yes", "on" -> true;
            case "false", "False", "FALSE", "no", "off" -> false;
            default -> throw error(value(key), child(key), "expected true or false, found '" + text + "'");
        };
    }

    /** One of an enum's constants, written in lower case in configs ({@code one_shot} for ONE_SHOT). */
    <E extends Enum<E>> E enumValue(String key, String fallback, Class<E> type) {
        String text = string(key, fallback);
        try {
            return Enum.valueOf(type, text.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            StringBuilder known = new StringBuilder();
            for (E c : type.getEnumConstants()) {
                known.append(known.length() == 0 ? "" : ", ").append(c.name().toLowerCase(java.util.Locale.ROOT));
            }
            throw error(key, "unknown value '" + text + "'; known: " + known);
        }
    }

    List<Node> list(String key) {
        Node v = value(key);
        if (!(v instanceof SequenceNode seq)) {
            throw error(v, child(key), "expected a list ([a, b] or '- a' lines), found " + describe(v));
        }
        return new ArrayList<>(seq.getValue());
    }

    long parseLong(Node n, String where) {
        if (!(n instanceof ScalarNode s)) {
            throw error(n, where, "expected an integer, found " + describe(n));
        }
        try {
            return Long.parseLong(s.getValue().replace("_", ""));
        } catch (NumberFormatException e) {
            throw error(n, where, "expected an integer, found '" + s.getValue() + "'");
        }
    }

    String scalarText(Node n, String where) {
        if (!(n instanceof ScalarNode s)) {
            throw error(n, where, "expected a single value, found " + describe(n));
        }
        return s.getValue();
    }

    YamlMap mapAt(Node n, String where) {
        return new YamlMap(locator, where, n);
    }

    private ScalarNode scalar(String key) {
        Node v = value(key);
        if (!(v instanceof ScalarNode s)) {
            throw error(v, child(key), "expected a single value, found " + describe(v));
        }
        return s;
    }

    ConfigException error(Node at, String keyPath, String problem) {
        return new ConfigException(locator.locate(at), keyPath, problem);
    }

    ConfigException error(String key, String problem) {
        return error(has(key) ? value(key) : owner, child(key), problem);
    }

    /**
     * A settings record's refusal placed at the key it names: a dotted key ({@code layers.dense_0},
     * {@code calibration.percentile}) is followed into the nested mapping; a key the file does not hold (a
     * default the record filled in) is named at its mapping's line. The message starts with the key for
     * Java callers; the located error names the key already, so that prefix is dropped.
     */
    ConfigException error(dev.distill.core.SettingException e) {
        String[] path = e.key().split("\\.", 2);
        YamlMap at = this;
        String key = path[0];
        if (path.length == 2 && has(path[0]) && value(path[0]) instanceof MappingNode) {
            at = map(path[0]);
            key = path[1];
        }
        String m = e.getMessage();
        for (String prefix : java.util.List.of(e.key() + " ", key + " ")) {
            if (m.startsWith(prefix)) {
                m = m.substring(prefix.length());
                break;
            }
        }
        return at.error(key, m);
    }

    static String describe(Node n) {
        if (n instanceof MappingNode) {
            return "a mapping";
        }
        if (n instanceof SequenceNode) {
            return "a list";
        }
        return "'" + ((ScalarNode) n).getValue() + "'";
    }

    static Path resolve(Path base, String text) {
        Path p = Path.of(text);
        return p.isAbsolute() ? p : base.resolve(p).normalize();
    }

    /** Turns the range checks of the typed records into located config errors (at {@code key}, or the mapping). */
    static <T> T check(YamlMap at, String key, java.util.function.Supplier<T> build) {
        try {
            return build.get();
        } catch (IllegalArgumentException e) {
            if (e instanceof dev.distill.models.spec.SpecException) {
                throw e;
            }
            String keyPath = key.isEmpty() ? at.path() : at.child(key);
            throw at.error(key.isEmpty() || !at.has(key) ? at.node() : at.value(key), keyPath, e.getMessage());
        }
    }

    /** The keys of both sets (the keys a block allows: common ones and its own). */
    static java.util.Set<String> union(java.util.Set<String> a, java.util.Set<String> b) {
        java.util.Set<String> all = new java.util.HashSet<>(a);
        all.addAll(b);
        return all;
    }
}
