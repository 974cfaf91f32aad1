package dev.distill.core.chain;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The models a set of chains asks for, in an order where every teacher comes before its students. Chains
 * that share a prefix share its models: {@code [teacher, student]} and {@code [teacher, assistant,
 * student]} train the teacher once.
 *
 * <p>Ids: a chain's first model keeps its name; a distilled model is {@code <name>-from-<teacher
 * name>} ({@code student-from-assistant}), or {@code <name>-from-<teacher id>} where that alone
 * would be ambiguous; a baseline is {@code <name>-baseline}.
 */
public record Plan(List<Node> nodes) {

    /** One model to train (or load) and evaluate. */
    public record Node(String id, String model, Role role, String parentId, DistillationSettings distillation) {

        /** Students and baselines are repeated over the experiment's seeds; the others are trained once. */
        public boolean perSeed() {
            return role == Role.STUDENT || role == Role.BASELINE;
        }

        public boolean distilled() {
            return parentId != null;
        }
    }

    public Plan {
        nodes = List.copyOf(nodes);
    }

    /**
     * The plan of {@code chains}, plus a baseline (the student trained on labels alone) for each final
     * student model that {@code baseline} accepts.
     */
    public static Plan of(List<Chain> chains, Predicate<String> baseline) {
        // key: the full path of model names from the chain's root, which identifies a node
        Map<List<String>, DistillationSettings> settings = new LinkedHashMap<>();
        Map<List<String>, Boolean> endsChain = new HashMap<>();
        int depth = 0;
        for (Chain chain : chains) {
            depth = Math.max(depth, chain.models().size());
            for (int i = 1; i <= chain.models().size(); i++) {
                List<String> path = chain.models().subList(0, i);
                // chains that share a link agree on its settings: their loaders reject them otherwise
                settings.putIfAbsent(List.copyOf(path), chain.distillation());
                endsChain.merge(List.copyOf(path), i == chain.models().size(), Boolean::logicalOr);
            }
        }
        List<List<String>> paths = new ArrayList<>();
        for (int d = 1; d <= depth; d++) {
            for (List<String> path : settings.keySet()) {
                if (path.size() == d) {
                    paths.add(path);
                }
            }
        }
        Map<List<String>, String> ids = ids(paths);
        List<Node> nodes = new ArrayList<>();
        List<String> students = new ArrayList<>();
        for (List<String> path : paths) {
            String model = path.get(path.size() - 1);
            boolean root = path.size() == 1;
            Role role = root ? Role.TEACHER : endsChain.get(path) ? Role.STUDENT : Role.ASSISTANT;
            String parent = root ? null : ids.get(path.subList(0, path.size() - 1));
            nodes.add(new Node(ids.get(path), model, role, parent, root ? null : settings.get(path)));
            if (role == Role.STUDENT && !students.contains(model)) {
                students.add(model);
            }
        }
        for (String model : students) {
            if (baseline.test(model)) {
                nodes.add(new Node(model + "-baseline", model, Role.BASELINE, null, null));
            }
        }
        return new Plan(nodes);
    }

    private static Map<List<String>, String> ids(List<List<String>> paths) {
        Map<List<String>, String> ids = new HashMap<>();
        Map<String, Integer> uses = new HashMap<>();
        for (List<String> path : paths) {
            uses.merge(shortId(path), 1, Integer::sum);
        }
        for (List<String> path : paths) {
            String id = shortId(path);
            if (uses.get(id) > 1) {
                // ambiguous: name the whole way back to the root
                id = String.join("-from-", reversed(path));
            }
            ids.put(path, id);
        }
        return ids;
    }

    private static String shortId(List<String> path) {
        return path.size() == 1 ? path.get(0) : path.get(path.size() - 1) + "-from-" + path.get(path.size() - 2);
    }

    private static List<String> reversed(List<String> path) {
        List<String> r = new ArrayList<>(path);
        java.util.Collections.reverse(r);
        return r;
    }
}
