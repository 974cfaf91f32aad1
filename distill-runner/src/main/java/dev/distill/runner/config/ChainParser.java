package dev.distill.runner.config;

import dev.distill.core.chain.Chain;
import dev.distill.core.chain.DistillationSettings;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * The {@code chains:} block and every {@code distillation:} block: which model teaches which (lists,
 * {@code {models: [...], distillation: {...}}} and born-again chains), with one loss per link and no loops.
 */
final class ChainParser {

    static final Set<String> DISTILLATION_KEYS = Set.of("method", "temperature", "soft_weight", "hard_weight",
            "alpha", "beta", "hint");

    private ChainParser() {
    }

    static DistillationSettings distillation(YamlMap d, DistillationSettings defaults) {
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
            throw d.error(e);
        }
    }

    static List<Chain> chains(YamlMap top, Map<String, ModelConfig> models, DistillationSettings defaults) {
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
                String name = known(top, names.get(i), where, models);
                if (chain.contains(name)) {
                    throw top.error(names.get(i), where, "'" + name + "' appears twice in the chain");
                }
                if (i > 0 && models.get(name) instanceof ModelConfig.Pretrained) {
                    throw top.error(names.get(i), where, "'" + name + "' is loaded from a file and is never "
                            + "trained, so it can only be the first model of a chain (the teacher)");
                }
                if (models.get(name) instanceof ModelConfig.Auto) {
                    String problem = i == 0 || i == names.size() - 1 ? "it goes between a teacher and a student, "
                            + "e.g. [teacher, " + name + ", student]" + (names.size() == 2 ? "; a chain of two has no "
                            + "room for one" : "")
                            : models.get(chain.get(i - 1)) instanceof ModelConfig.Auto ? "two automatic assistants in "
                            + "a row; each is chosen by the validation of the declared student it teaches"
                            : settings.hint() != null ? "a hint names layers of declared models, and an automatic "
                            + "assistant has none until it is chosen: drop the hint from this chain" : null;
                    if (problem != null) {
                        throw top.error(names.get(i), where, "'" + name + "' is an automatic assistant: " + problem);
                    }
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
     * A FitNets hint, {@code {student_layer: 0, teacher_layer: 4, epochs: 10, stage: two_stage}}: layer indices
     * from 0 as declared; epochs of the hint stage (0 or left out: the student's).
     */
    private static dev.distill.core.chain.Hint hint(YamlMap h) {
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
        return YamlMap.check(h, "", () -> new dev.distill.core.chain.Hint(h.integer("student_layer"),
                h.integer("teacher_layer"), h.integer("epochs", 0), stage, h.number("weight", 1)));
    }

    /** Why {@code settings}' hint cannot join {@code teacher} to {@code student}, or null (also without a hint). */
    private static String hintProblem(DistillationSettings settings, ModelConfig teacher, ModelConfig student) {
        if (settings.hint() == null || teacher instanceof ModelConfig.Auto || student instanceof ModelConfig.Auto) {
            // a chain with an automatic assistant and a hint is refused where the assistant is named
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

    /**
     * An ensemble link, {@code {ensemble: [teacher, assistant], weights: [0.7, 0.3], student: student}}: the
     * teachers (of any kind: declared, .zip, ONNX; each a chain root, trained on labels alone) teach the
     * student through the weighted average of their softened probabilities; weights left out are equal.
     */
    private static Chain ensemble(YamlMap chain, Map<String, ModelConfig> models, DistillationSettings defaults) {
        chain.allowOnly(Set.of("ensemble", "weights", "student", "distillation"));
        List<String> teachers = new ArrayList<>();
        for (Node n : chain.list("ensemble")) {
            String name = knownNotAuto(chain, n, chain.child("ensemble"), models);
            if (teachers.contains(name)) {
                throw chain.error(n, chain.child("ensemble"), "'" + name + "' appears twice in the ensemble");
            }
            teachers.add(name);
        }
        if (!chain.has("student")) {
            throw chain.error("student", "missing: name the model the ensemble teaches, e.g. student: student");
        }
        String student = knownNotAuto(chain, chain.value("student"), chain.child("student"), models);
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
        return YamlMap.check(chain, chain.has("weights") ? "weights" : "ensemble",
                () -> Chain.ensemble(teachers, w, student, settings));
    }

    /**
     * Deep mutual learning, {@code {mutual: [student_a, student_b]}}: declared students trained together,
     * each distilled from the others' current predictions; they share epochs and batch size, none augments.
     */
    private static Chain mutual(YamlMap chain, Map<String, ModelConfig> models, DistillationSettings defaults) {
        chain.allowOnly(Set.of("mutual", "distillation"));
        List<String> students = new ArrayList<>();
        ModelConfig.Declared first = null;
        for (Node n : chain.list("mutual")) {
            String name = knownNotAuto(chain, n, chain.child("mutual"), models);
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
        return YamlMap.check(chain, "mutual", () -> Chain.mutual(students, settings));
    }

    /** A model name of an ensemble or a mutual group: declared, and not an automatic assistant. */
    private static String knownNotAuto(YamlMap chain, Node n, String where, Map<String, ModelConfig> models) {
        String name = known(chain, n, where, models);
        if (models.get(name) instanceof ModelConfig.Auto) {
            throw chain.error(n, where, "'" + name + "' is an automatic assistant: it goes between a teacher and a "
                    + "student of a chain, e.g. [teacher, " + name + ", student]");
        }
        return name;
    }

    /**
     * Each automatic assistant's candidates, made from its chain's student and teacher ({@link
     * dev.distill.core.chain.AssistantFamily}): it must be in exactly one chain; what the family cannot give
     * (no room between the two, a width outside it) is an error at its declaration.
     */
    static void autoAssistants(YamlMap top, Map<String, ModelConfig> models, List<Chain> chains, DataConfig data) {
        YamlMap declared = top.map("models");
        for (ModelConfig model : List.copyOf(models.values())) {
            if (!(model instanceof ModelConfig.Auto auto)) {
                continue;
            }
            String name = auto.name();
            if (!(data.validationSplit() > 0)) {
                throw declared.error(declared.keyNode(name), declared.child(name), "an automatic assistant is chosen "
                        + "on the validation split, and data.validation_split is 0; set it, e.g. validation_split: 0.1");
            }
            List<Chain> in = chains.stream().filter(c -> c.models().contains(name)).toList();
            if (in.size() != 1) {
                throw declared.error(declared.keyNode(name), declared.child(name), in.isEmpty()
                        ? "an automatic assistant in no chain: put it between a teacher and a student, e.g. "
                                + "[teacher, " + name + ", student]"
                        : "an automatic assistant is chosen for one student, and '" + name + "' is in " + in.size()
                                + " chains: declare one automatic assistant per chain");
            }
            List<String> names = in.get(0).models();
            int at = names.indexOf(name);
            ModelConfig teacher = models.get(names.get(at - 1));
            ModelConfig.Declared student = (ModelConfig.Declared) models.get(names.get(at + 1));
            List<dev.distill.core.chain.AssistantFamily.Candidate> candidates;
            try {
                candidates = auto.family().candidates(student.network(),
                        teacher instanceof ModelConfig.Declared t ? t.network() : null);
            } catch (IllegalArgumentException e) {
                throw declared.error(declared.keyNode(name), declared.child(name), "between " + names.get(at - 1)
                        + " and " + names.get(at + 1) + ": " + e.getMessage());
            }
            List<ModelConfig.Auto.Candidate> resolved = new ArrayList<>();
            for (dev.distill.core.chain.AssistantFamily.Candidate c : candidates) {
                String candidate = name + "_" + c.label();
                if (models.containsKey(candidate)) {
                    throw declared.error(declared.keyNode(candidate), declared.child(candidate), "the name of a "
                            + "candidate of the automatic assistant '" + name + "'; rename this model");
                }
                resolved.add(new ModelConfig.Auto.Candidate(c, new ModelConfig.Declared(candidate, c.network(),
                        auto.training(), c.network().cost(data.input(), data.classes()))));
            }
            models.put(name, new ModelConfig.Auto(name, auto.family(), auto.training(), resolved));
        }
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
    private static List<Node> bornAgain(YamlMap chain, Map<String, ModelConfig> models) {
        String first = chain.string("born_again");
        Node at = chain.value("born_again");
        if (!(models.get(first) instanceof ModelConfig.Declared declared)) {
            throw chain.error("born_again", models.get(first) instanceof ModelConfig.Auto
                    ? "'" + first + "' is an automatic assistant: a born-again chain retrains a declared architecture"
                    : models.containsKey(first)
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
}
