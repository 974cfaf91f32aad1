package dev.distill.core.chain;

import dev.distill.core.train.TrainingSpec;
import dev.distill.models.spec.NetworkSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The rules of chains over named models, each in one place: known names, each once in a chain; a model
 * trained elsewhere only as a chain's teacher; an automatic assistant only between a teacher and a declared
 * student; no loop across chains; one setting per link that chains share; hints that fit their layers; mutual
 * students trained alike; a born-again chain's first model declared. {@link DistillationChain.Builder} and the
 * config loader both end here, adding the chains in order; each refusal is a {@link ChainRefusal} that names
 * the config key and the position of the model at fault.
 */
public final class ChainRules {

    /** What a model is to the rules. */
    public enum Kind {
        /** Trained by the chain from its spec and training. */
        DECLARED,
        /** Trained elsewhere (a given network, a model file): it only teaches. */
        TRAINED,
        /** An automatic assistant ({@link AssistantFamily}): its layers are chosen when it trains. */
        AUTO
    }

    /**
     * A model as the rules see it: its kind, its network when its layers are known before training (null
     * otherwise: a model trained elsewhere, an automatic assistant), its training (null if trained elsewhere),
     * and an automatic assistant's family of candidates (null for the others).
     */
    public record Member(Kind kind, NetworkSpec network, TrainingSpec training, AssistantFamily family) {
        public Member {
            Objects.requireNonNull(kind, "kind");
        }

        public static Member declared(NetworkSpec network, TrainingSpec training) {
            return new Member(Kind.DECLARED, Objects.requireNonNull(network, "network"),
                    Objects.requireNonNull(training, "training"), null);
        }

        public static Member trained() {
            return new Member(Kind.TRAINED, null, null, null);
        }

        public static Member auto(AssistantFamily family, TrainingSpec training) {
            return new Member(Kind.AUTO, null, Objects.requireNonNull(training, "training"),
                    Objects.requireNonNull(family, "family"));
        }
    }

    private final Map<String, Member> models;
    /** A link (the path of names from a chain's root) shared by chains is one model: one setting. */
    private final Map<List<String>, DistillationSettings> links = new HashMap<>();
    /** Who teaches whom over the chains added so far: a loop (a student teaching its teacher) is refused. */
    private final Map<String, Set<String>> teaches = new LinkedHashMap<>();

    /** Rules over {@code models}, by name in the order they were declared (the order errors list them). */
    public ChainRules(Map<String, Member> models) {
        this.models = new LinkedHashMap<>(models);
    }

    /**
     * A born-again chain ({@link Chain#bornAgain}): its first model must be declared (its architecture is
     * retrained), and no generation may take the name of another model. The generations become models of
     * these rules, so that the chain can then be {@link #add added}.
     *
     * @throws ChainRefusal at {@code born_again}
     */
    public void bornAgain(Chain chain) {
        String first = chain.models().get(0);
        Member model = models.get(first);
        if (model == null || model.kind() != Kind.DECLARED) {
            throw new ChainRefusal(chain, "born_again", -1, model == null ? unknown(first)
                    : model.kind() == Kind.AUTO
                    ? "'" + first + "' is an automatic assistant: a born-again chain retrains a declared architecture"
                    : trainedAlready(first) + "; a born-again chain retrains its architecture, so it needs a "
                            + "declared model");
        }
        for (String generation : chain.models().subList(1, chain.models().size())) {
            Member earlier = models.putIfAbsent(generation, model);
            if (earlier != null && !earlier.equals(model)) {
                throw new ChainRefusal(chain, "born_again", -1, "the born-again generation '" + generation
                        + "' would replace a declared model of that name; rename that model");
            }
        }
    }

    /**
     * Checks {@code chain} against the models and the chains added before it.
     *
     * @throws ChainRefusal naming the part of the chain at fault and what would be right
     */
    public void add(Chain chain) {
        if (chain.kind() == Chain.Kind.SEQUENCE) {
            sequence(chain);
        } else {
            shaped(chain);
        }
    }

    private void sequence(Chain chain) {
        List<String> names = chain.models();
        if (names.size() < 2) {
            throw new ChainRefusal(chain, "models", -1, "a chain needs at least a teacher and a student");
        }
        for (int i = 0; i < names.size(); i++) {
            String name = names.get(i);
            Member model = known(chain, "models", i, name);
            if (names.subList(0, i).contains(name)) {
                throw new ChainRefusal(chain, "models", i, "'" + name + "' appears twice in the chain");
            }
            if (i > 0 && model.kind() == Kind.TRAINED) {
                throw new ChainRefusal(chain, "models", i, trainedAlready(name)
                        + ", so it can only be the first model of a chain (the teacher)");
            }
            if (model.kind() == Kind.AUTO) {
                String problem = autoProblem(chain, i);
                if (problem != null) {
                    throw new ChainRefusal(chain, "models", i, "'" + name + "' is an automatic assistant: " + problem);
                }
            }
            if (i == 0) {
                continue;
            }
            String teacher = names.get(i - 1);
            List<String> back = path(name, teacher);
            if (back != null) {
                throw new ChainRefusal(chain, "models", i, "'" + teacher + "' -> '" + name + "' closes a loop with "
                        + "the chains before it (" + String.join(" -> ", back) + "): a model cannot be distilled "
                        + "from its own student; drop one of the chains");
            }
            teaches.computeIfAbsent(teacher, k -> new LinkedHashSet<>()).add(name);
            List<String> link = List.copyOf(names.subList(0, i + 1));
            DistillationSettings earlier = links.putIfAbsent(link, chain.distillation());
            if (earlier != null && !earlier.equals(chain.distillation())) {
                throw new ChainRefusal(chain, "models", i, String.join(" -> ", link) + " is also in an earlier "
                        + "chain with other distillation settings; give both chains the same settings, or declare "
                        + "a second model under another name for the second setting");
            }
        }
        Hint hint = chain.distillation().hint();
        for (int i = 1; hint != null && i < names.size(); i++) {
            // a model whose layers are known only once it is loaded or chosen is checked then
            NetworkSpec teacher = models.get(names.get(i - 1)).network();
            NetworkSpec student = models.get(names.get(i)).network();
            String problem = teacher == null || student == null ? null : hint.problem(teacher, student);
            if (problem != null) {
                throw new ChainRefusal(chain, "models", -1, names.get(i - 1) + " -> " + names.get(i) + ": hint: "
                        + problem);
            }
        }
    }

    /**
     * Each automatic assistant's candidates ({@link AssistantFamily#candidates}) between its chain's teacher and
     * student, once every chain has been {@link #add added}: it must be in exactly one chain, which {@link #add}
     * made sure has a teacher before it and a declared student after it.
     *
     * @throws ChainRefusal at the assistant's name, saying what would be right
     */
    public Map<String, List<AssistantFamily.Candidate>> autoAssistants(List<Chain> chains) {
        Map<String, List<AssistantFamily.Candidate>> candidates = new LinkedHashMap<>();
        for (Map.Entry<String, Member> model : models.entrySet()) {
            if (model.getValue().kind() != Kind.AUTO) {
                continue;
            }
            String name = model.getKey();
            String subject = "automatic assistant '" + name + "'";
            List<Chain> in = chains.stream().filter(c -> c.models().contains(name)).toList();
            if (in.size() != 1) {
                throw new ChainRefusal(subject, name, -1, in.isEmpty()
                        ? "an automatic assistant in no chain: put it between a teacher and a student, e.g. "
                                + "[teacher, " + name + ", student]"
                        : "an automatic assistant is chosen for one student, and '" + name + "' is in " + in.size()
                                + " chains: declare one automatic assistant per chain");
            }
            List<String> names = in.get(0).models();
            int at = names.indexOf(name);
            try {
                candidates.put(name, model.getValue().family().candidates(models.get(names.get(at + 1)).network(),
                        models.get(names.get(at - 1)).network()));
            } catch (IllegalArgumentException problem) {
                throw new ChainRefusal(subject, name, -1, "between " + names.get(at - 1) + " and "
                        + names.get(at + 1) + ": " + problem.getMessage());
            }
        }
        return candidates;
    }

    /** Why the automatic assistant at {@code i} cannot be there, or null. */
    private String autoProblem(Chain chain, int i) {
        List<String> names = chain.models();
        if (i == 0 || i == names.size() - 1) {
            return "it goes between a teacher and a student, e.g. [teacher, " + names.get(i) + ", student]"
                    + (names.size() == 2 ? "; a chain of two has no room for one" : "");
        }
        if (models.get(names.get(i - 1)).kind() == Kind.AUTO) {
            return "two automatic assistants in a row; each is chosen by the validation of the declared student "
                    + "it teaches";
        }
        if (chain.distillation().hint() != null) {
            return "a hint names layers of declared models, and an automatic assistant has none until it is "
                    + "chosen: drop the hint from this chain";
        }
        return null;
    }

    /** An ensemble or a mutual group: known names, each once, no automatic assistant, its students declared. */
    private void shaped(Chain chain) {
        List<String> names = chain.models();
        boolean ensemble = chain.kind() == Chain.Kind.ENSEMBLE;
        for (int i = 0; i < names.size(); i++) {
            String name = names.get(i);
            boolean student = ensemble && i == names.size() - 1;
            String key = ensemble ? student ? "student" : "ensemble" : "mutual";
            int index = student ? -1 : i;
            Member model = known(chain, key, index, name);
            if (names.subList(0, i).contains(name)) {
                throw new ChainRefusal(chain, key, index, student
                        ? "'" + name + "' is one of the ensemble's teachers; it cannot also be its student"
                        : "'" + name + "' appears twice" + (ensemble ? " in the ensemble" : "; for two students of "
                                + "one architecture declare a second model under another name"));
            }
            if (model.kind() == Kind.AUTO) {
                throw new ChainRefusal(chain, key, index, "'" + name + "' is an automatic assistant: it goes "
                        + "between a teacher and a student of a chain, e.g. [teacher, " + name + ", student]");
            }
            if (model.kind() == Kind.TRAINED && chain.distilled().contains(name)) {
                throw new ChainRefusal(chain, key, index, trainedAlready(name) + (ensemble
                        ? ", so it cannot be the ensemble's student" : "; mutual learning trains every model it names"));
            }
        }
        if (!ensemble) {
            TrainingSpec first = models.get(names.get(0)).training();
            for (int i = 1; i < names.size(); i++) {
                String clash = MutualLearning.clash(first, models.get(names.get(i)).training());
                if (clash != null) {
                    throw new ChainRefusal(chain, "mutual", i, "'" + names.get(i) + "' " + clash);
                }
            }
        }
    }

    private Member known(Chain chain, String key, int index, String name) {
        Member model = models.get(name);
        if (model == null) {
            throw new ChainRefusal(chain, key, index, unknown(name));
        }
        return model;
    }

    private String unknown(String name) {
        return "no model named '" + name + "'; declared models: " + String.join(", ", models.keySet());
    }

    private static String trainedAlready(String name) {
        return "'" + name + "' is trained already (given, or loaded from a file) and never trained further";
    }

    /** The names on a path of links from {@code from} to {@code to}, or null if there is none. */
    private List<String> path(String from, String to) {
        if (from.equals(to)) {
            return List.of(from);
        }
        for (String next : teaches.getOrDefault(from, Set.of())) {
            List<String> rest = path(next, to);
            if (rest != null) {
                List<String> all = new ArrayList<>(List.of(from));
                all.addAll(rest);
                return all;
            }
        }
        return null;
    }
}
