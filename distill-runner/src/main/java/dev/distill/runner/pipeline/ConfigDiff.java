package dev.distill.runner.pipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The keys in which two configs differ in a way that changes results: every key except the
 * {@code checkpoints} block (how often state is saved does not change what is trained).
 */
public final class ConfigDiff {

    private static final String NEUTRAL = "checkpoints";

    private ConfigDiff() {
    }

    /** Key paths ({@code models.teacher.training.epochs}) whose values differ, sorted. */
    public static List<String> resultChanging(String before, String after) {
        Map<String, Object> a = flatten(before);
        Map<String, Object> b = flatten(after);
        TreeMap<String, Boolean> keys = new TreeMap<>();
        a.keySet().forEach(k -> keys.put(k, true));
        b.keySet().forEach(k -> keys.put(k, true));
        List<String> changed = new ArrayList<>();
        for (String k : keys.keySet()) {
            if (!(k.equals(NEUTRAL) || k.startsWith(NEUTRAL + ".")) && !Objects.equals(a.get(k), b.get(k))) {
                changed.add(k);
            }
        }
        return changed;
    }

    private static Map<String, Object> flatten(String yaml) {
        Object root = new Yaml(new SafeConstructor(dev.distill.runner.config.ConfigText.options())).load(yaml);
        Map<String, Object> flat = new TreeMap<>();
        flatten("", root, flat);
        return flat;
    }

    private static void flatten(String path, Object value, Map<String, Object> flat) {
        if (value instanceof Map<?, ?> map && !map.isEmpty()) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                flatten(path.isEmpty() ? String.valueOf(e.getKey()) : path + "." + e.getKey(), e.getValue(), flat);
            }
        } else {
            // lists (chains, layers, seeds) compare as a whole
            flat.put(path, value);
        }
    }
}
