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

    /**
     * One model to train (or load) and evaluate. {@code parentId} names what it is distilled from, for people
     * and reports: a node id, or the ids of an ensemble's teachers or of mutual peers joined by {@code +};
     * {@code teachers} says how to get the targets.
     */
    public record Node(String id, String model, Role role, String parentId, DistillationSettings distillation,
            Teachers teachers) {

        public Node {
            java.util.Objects.requireNonNull(teachers, "teachers");
        }

        /** A root, baseline, or a node distilled from the one node {@code parentId}. */
        public Node(String id, String model, Role role, String parentId, DistillationSettings distillation) {
            this(id, model, role, parentId, distillation, parentId == null ? Teachers.NONE : Teachers.one(parentId));
        }

        /** The same link under another id with other settings (a sweep point, the chosen point). */
        public Node variant(String id, DistillationSettings settings) {
            return new Node(id, model, role, parentId, settings, teachers);
        }

        /** What it is distilled from, in words: {@code teacher}, {@code the ensemble teacher 0.7 + assistant 0.3}, ... */
        public String source() {
            return switch (teachers.kind()) {
                case SEQUENCE -> parentId;
                case ENSEMBLE -> {
                    List<String> parts = new ArrayList<>();
                    for (int i = 0; i < teachers.ids().size(); i++) {
                        parts.add(teachers.ids().get(i) + " " + teachers.weights().get(i));
                    }
                    yield "the ensemble " + String.join(" + ", parts);
                }
                case MUTUAL -> "its mutual peers " + String.join(", ", teachers.ids()) + ", trained beside it";
            };
        }

        /** Trained together with its peers ({@link Chain.Kind#MUTUAL}), from their current predictions. */
        public boolean mutual() {
            return teachers.kind() == Chain.Kind.MUTUAL;
        }

        /** Students and baselines are repeated over the experiment's seeds; the others are trained once. */
        public boolean perSeed() {
            return role == Role.STUDENT || role == Role.BASELINE;
        }

        public boolean distilled() {
            return parentId != null;
        }
    }

    /**
     * The nodes a node learns from: one teacher ({@link Chain.Kind#SEQUENCE}), an ensemble's teachers with
     * their weights, or mutual peers (trained beside it); none for a root or a baseline.
     */
    public record Teachers(Chain.Kind kind, List<String> ids, List<Double> weights) {
        public static final Teachers NONE = new Teachers(Chain.Kind.SEQUENCE, List.of(), List.of());

        public Teachers {
            ids = List.copyOf(ids);
            weights = List.copyOf(weights);
        }

        static Teachers one(String id) {
            return new Teachers(Chain.Kind.SEQUENCE, List.of(id), List.of());
        }

        /** The weights as an array: an ensemble's own, equal ones for mutual peers. */
        public double[] weightArray() {
            return weights.isEmpty() ? java.util.Collections.nCopies(ids.size(), 1.0 / ids.size()).stream()
                    .mapToDouble(Double::doubleValue).toArray()
                    : weights.stream().mapToDouble(Double::doubleValue).toArray();
        }
    }

    public Plan {
        nodes = List.copyOf(nodes);
    }

    /** The nodes trained together with {@code node} (itself included, in plan order): its mutual group. */
    public List<Node> group(Node node) {
        if (!node.mutual()) {
            return List.of(node);
        }
        return nodes.stream().filter(n -> n.id().equals(node.id()) || node.teachers().ids().contains(n.id())).toList();
    }

    /**
     * The node distilled from {@code teacher} alone (a sequence link), the first in plan order: the student an
     * automatic assistant is chosen for.
     *
     * @throws IllegalArgumentException if no node is
     */
    public Node taughtBy(Node teacher) {
        return nodes.stream().filter(n -> teacher.id().equals(n.parentId()) && !n.mutual()).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no node of the plan is distilled from " + teacher.id()));
    }

    /**
     * The plan of {@code chains}, plus a baseline (the student trained on labels alone) for each final
     * student model that {@code baseline} accepts.
     */
    public static Plan of(List<Chain> chains, Predicate<String> baseline) {
        // key: the full path of model names from the chain's root, which identifies a node
        Map<List<String>, DistillationSettings> settings = new LinkedHashMap<>();
        Map<List<String>, Boolean> endsChain = new HashMap<>();
        int depth = 1;
        for (Chain chain : chains) {
            if (chain.kind() == Chain.Kind.ENSEMBLE) {
                // an ensemble's teachers are roots: trained on labels alone, or loaded
                for (String teacher : chain.models().subList(0, chain.models().size() - 1)) {
                    settings.putIfAbsent(List.of(teacher), chain.distillation());
                    endsChain.merge(List.of(teacher), false, Boolean::logicalOr);
                }
            }
            if (chain.kind() != Chain.Kind.SEQUENCE) {
                continue;
            }
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
        for (Chain chain : chains) {
            if (chain.kind() == Chain.Kind.ENSEMBLE) {
                List<String> teachers = chain.models().subList(0, chain.models().size() - 1);
                String student = chain.models().get(chain.models().size() - 1);
                String parent = String.join("+", teachers);
                add(nodes, students, new Node(student + "-from-" + parent, student, Role.STUDENT, parent,
                        chain.distillation(), new Teachers(Chain.Kind.ENSEMBLE, teachers, chain.weights())));
            } else if (chain.kind() == Chain.Kind.MUTUAL) {
                for (String student : chain.models()) {
                    List<String> peers = chain.models().stream().filter(m -> !m.equals(student))
                            .map(Plan::mutualId).toList();
                    add(nodes, students, new Node(mutualId(student), student, Role.STUDENT, String.join("+", peers),
                            chain.distillation(), new Teachers(Chain.Kind.MUTUAL, peers, List.of())));
                }
            }
        }
        for (String model : students) {
            if (baseline.test(model)) {
                nodes.add(new Node(model + "-baseline", model, Role.BASELINE, null, null));
            }
        }
        return new Plan(nodes);
    }

    /** The id of a mutual student: {@code <name>-mutual}. */
    public static String mutualId(String model) {
        return model + "-mutual";
    }

    private static void add(List<Node> nodes, List<String> students, Node node) {
        if (nodes.stream().noneMatch(n -> n.id().equals(node.id()))) {
            nodes.add(node);
            if (!students.contains(node.model())) {
                students.add(node.model());
            }
        }
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
