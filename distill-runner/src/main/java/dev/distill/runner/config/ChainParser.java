package dev.distill.runner.config;

import dev.distill.core.chain.Chain;
import dev.distill.core.chain.ChainRefusal;
import dev.distill.core.chain.ChainRules;
import dev.distill.core.chain.DistillationSettings;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.SequenceNode;

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

    /**
     * The chains, in order, each checked by core's {@link ChainRules} (the one home of the rules of chains)
     * against the models and the chains before it; a refusal becomes a located error at the name it is about.
     */
    static List<Chain> chains(YamlMap top, Map<String, ModelConfig> models, DistillationSettings defaults) {
        List<Node> nodes = top.list("chains");
        if (nodes.isEmpty()) {
            throw top.error("chains", "declare at least one chain, e.g. [teacher, student]");
        }
        List<Chain> chains = new ArrayList<>();
        ChainRules rules = new ChainRules(members(models));
        for (int c = 0; c < nodes.size(); c++) {
            String where = top.child("chains") + "[" + c + "]";
            Node node = nodes.get(c);
            YamlMap map = node instanceof MappingNode ? top.mapAt(node, where) : null;
            Chain chain;
            try {
                if (map != null && map.has("ensemble")) {
                    chain = ensemble(map, defaults);
                } else if (map != null && map.has("mutual")) {
                    chain = mutual(map, defaults);
                } else if (map != null && map.has("born_again")) {
                    chain = bornAgain(map, models, rules, defaults);
                } else if (map != null) {
                    map.allowOnly(Set.of("models", "distillation"));
                    chain = new Chain(names(map, map.list("models"), map.child("models")),
                            map.has("distillation") ? distillation(map.map("distillation"), defaults) : defaults);
                } else if (node instanceof SequenceNode seq) {
                    chain = new Chain(names(top, seq.getValue(), where), defaults);
                } else {
                    throw top.error(node, where, "expected a list of model names like [teacher, assistant, student],"
                            + " {models: [...], distillation: {...}}, {born_again: m}, {ensemble: [...], student: s}"
                            + " or {mutual: [a, b]}");
                }
                rules.add(chain);
            } catch (ChainRefusal e) {
                throw refused(top, node, where, e);
            }
            String onnx = onnxHintProblem(chain, models);
            if (onnx != null) {
                throw top.error(node, where, onnx);
            }
            chains.add(chain);
        }
        return chains;
    }

    /** The models as core's {@link ChainRules} sees them. */
    private static Map<String, ChainRules.Member> members(Map<String, ModelConfig> models) {
        Map<String, ChainRules.Member> members = new LinkedHashMap<>();
        models.forEach((name, model) -> members.put(name, model instanceof ModelConfig.Declared d
                ? ChainRules.Member.declared(d.network(), d.training())
                : model instanceof ModelConfig.Auto a ? ChainRules.Member.auto(a.family(), a.training())
                : ChainRules.Member.trained()));
        return members;
    }

    /**
     * A refusal of {@link ChainRules} at the name it is about: the model at its index in the list under its key
     * (a plain list is the chain itself), or the key, or (a key the chain does not write, as a born-again
     * chain's models) the chain.
     */
    private static ConfigException refused(YamlMap top, Node node, String where, ChainRefusal e) {
        Node list = node;
        String path = where;
        if (node instanceof MappingNode) {
            YamlMap chain = top.mapAt(node, where);
            String key = chain.has(e.key()) ? e.key() : chain.has("born_again") ? "born_again" : null;
            if (key == null) {
                return top.error(node, where, e.problem());
            }
            list = chain.value(key);
            path = chain.child(key);
        }
        Node at = list instanceof SequenceNode seq && e.index() >= 0 && e.index() < seq.getValue().size()
                ? seq.getValue().get(e.index()) : list;
        return top.error(at, path, e.problem());
    }

    /** The names of a list of models, as written. */
    private static List<String> names(YamlMap at, List<Node> nodes, String where) {
        List<String> names = new ArrayList<>();
        for (Node n : nodes) {
            names.add(at.scalarText(n, where));
        }
        return names;
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
        try {
            return new dev.distill.core.chain.Hint(h.integer("student_layer"), h.integer("teacher_layer"),
                    h.integer("epochs", 0), stage, h.number("weight", 1));
        } catch (dev.distill.core.SettingException e) {
            throw h.error(e);
        }
    }

    /**
     * Why the chain's hint cannot join an ONNX teacher to its student, or null: ONNX teachers are the runner's,
     * so this rule is too; the rules of hints between declared models are {@link ChainRules}'.
     */
    private static String onnxHintProblem(Chain chain, Map<String, ModelConfig> models) {
        List<String> names = chain.models();
        for (int i = 1; chain.distillation().hint() != null && i < names.size(); i++) {
            if (models.get(names.get(i - 1)) instanceof ModelConfig.Pretrained p && p.onnx() != null) {
                return names.get(i - 1) + " -> " + names.get(i) + ": hint: the ONNX teacher '" + p.name()
                        + "' gives logits only; a hint needs a DL4J teacher (declared or .zip)";
            }
        }
        return null;
    }

    /**
     * An ensemble link, {@code {ensemble: [teacher, assistant], weights: [0.7, 0.3], student: student}}: the
     * teachers (of any kind: declared, .zip, ONNX; each a chain root, trained on labels alone) teach the
     * student through the weighted average of their softened probabilities; weights left out are equal.
     */
    private static Chain ensemble(YamlMap chain, DistillationSettings defaults) {
        chain.allowOnly(Set.of("ensemble", "weights", "student", "distillation"));
        List<String> teachers = names(chain, chain.list("ensemble"), chain.child("ensemble"));
        if (!chain.has("student")) {
            throw chain.error("student", "missing: name the model the ensemble teaches, e.g. student: student");
        }
        String student = chain.scalarText(chain.value("student"), chain.child("student"));
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
    private static Chain mutual(YamlMap chain, DistillationSettings defaults) {
        chain.allowOnly(Set.of("mutual", "distillation"));
        List<String> students = names(chain, chain.list("mutual"), chain.child("mutual"));
        // a hint joins one teacher to one student: one in the top block is not inherited here
        DistillationSettings settings = chain.has("distillation")
                ? distillation(chain.map("distillation"), defaults.withHint(null)) : defaults.withHint(null);
        return YamlMap.check(chain, "mutual", () -> Chain.mutual(students, settings));
    }

    /**
     * Each automatic assistant's candidates, made by core's {@link ChainRules#autoAssistants} from its chain's
     * student and teacher (it must be in exactly one chain; what the family cannot give, no room between the two
     * or a width outside it, is refused there) and placed at its declaration, each a model named
     * {@code <assistant>_<label>}.
     */
    static void autoAssistants(YamlMap top, Map<String, ModelConfig> models, List<Chain> chains, DataConfig data) {
        YamlMap declared = top.map("models");
        for (ModelConfig model : models.values()) {
            if (model instanceof ModelConfig.Auto && !(data.validationSplit() > 0)) {
                throw declared.error(declared.keyNode(model.name()), declared.child(model.name()), "an automatic "
                        + "assistant is chosen on the validation split, and data.validation_split is 0; set it, e.g. "
                        + "validation_split: 0.1");
            }
        }
        Map<String, List<dev.distill.core.chain.AssistantFamily.Candidate>> families;
        try {
            families = new ChainRules(members(models)).autoAssistants(chains);
        } catch (ChainRefusal e) {
            throw declared.error(declared.keyNode(e.key()), declared.child(e.key()), e.problem());
        }
        families.forEach((name, candidates) -> {
            ModelConfig.Auto auto = (ModelConfig.Auto) models.get(name);
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
        });
    }

    /**
     * A born-again chain (Furlanello et al. 2018, "Born-Again Neural Networks"): {@code {born_again: teacher,
     * generations: k}} is the chain teacher -> teacher_gen1 -> ... -> teacher_genk ({@link Chain#bornAgain}),
     * where every generation has the teacher's architecture and training and is distilled from the one before.
     * The generations are added to {@code models} once {@link ChainRules#bornAgain} allows them.
     */
    private static Chain bornAgain(YamlMap chain, Map<String, ModelConfig> models, ChainRules rules,
            DistillationSettings defaults) {
        chain.allowOnly(Set.of("born_again", "generations", "distillation"));
        String first = chain.string("born_again");
        DistillationSettings settings = chain.has("distillation") ? distillation(chain.map("distillation"), defaults)
                : defaults;
        Chain bornAgain;
        try {
            bornAgain = Chain.bornAgain(first, chain.integer("generations", 2), settings);
        } catch (dev.distill.core.SettingException e) {
            throw chain.error(e);
        }
        rules.bornAgain(bornAgain);
        ModelConfig.Declared declared = (ModelConfig.Declared) models.get(first);
        for (String name : bornAgain.models().subList(1, bornAgain.models().size())) {
            models.putIfAbsent(name, new ModelConfig.Declared(name, declared.network(), declared.training(),
                    declared.cost()));
        }
        return bornAgain;
    }
}
