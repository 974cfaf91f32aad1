package dev.distill.core.chain;

import dev.distill.core.data.LabeledData;
import dev.distill.core.train.Trainer;
import dev.distill.core.train.TrainingListener;
import dev.distill.core.train.TrainingResult;
import dev.distill.core.train.TrainingSpec;
import dev.distill.models.network.Network;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.NetworkSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Teacher → assistants → student from Java: models by name (declared as a spec and its training, or
 * given as a trained network that only teaches), chains of their names, each with its distillation
 * settings, and the data. {@link #train()} trains the {@link Plan}'s nodes in order, each teacher's
 * logits computed once and shared by its students, and returns every trained network with its result.
 *
 * <pre>{@code
 * ChainResult r = DistillationChain.builder()
 *         .setInput(InputShape.flat(64)).setData(train, validation)
 *         .addModel("teacher", teacherSpec, training).addModel("student", studentSpec, training)
 *         .addChain(DistillationSettings.DEFAULTS, "teacher", "student")
 *         .build().train();
 * Network student = r.model("student-from-teacher").network();
 * }</pre>
 *
 * Builders follow one rule: {@code set*} is required, {@code opt*} optional, {@code add*} repeatable;
 * {@link Builder#build()} checks everything before anything trains.
 */
public final class DistillationChain {

    /** A model of the chain: declared (trained by the chain) or given (trained elsewhere, frozen). */
    public sealed interface Model {
        /** A model the chain trains: its network and how it is trained. */
        record Declared(NetworkSpec network, TrainingSpec training) implements Model {
            public Declared {
                Objects.requireNonNull(network, "network");
                Objects.requireNonNull(training, "training");
            }
        }

        /** A trained network, never trained further: it can only be a chain's first model. */
        record Given(Network network) implements Model {
            public Given {
                Objects.requireNonNull(network, "network");
            }
        }

        /**
         * An automatic teacher assistant: the candidates of {@code family} between its chain's teacher and
         * student are each distilled from the teacher and each teach the student; the candidate whose student
         * has the best validation accuracy becomes the assistant ({@link AssistantFamily}).
         */
        record Auto(AssistantFamily family, TrainingSpec training) implements Model {
            public Auto {
                Objects.requireNonNull(family, "family");
                Objects.requireNonNull(training, "training");
            }
        }
    }

    private final InputShape input;
    private final LabeledData train;
    private final LabeledData validation;
    private final Map<String, Model> models;
    private final Plan plan;
    private final long seed;
    private final Function<String, List<TrainingListener>> listeners;
    /** Each automatic assistant's candidates, by model name, resolved against its chain when built. */
    private final Map<String, List<AssistantFamily.Candidate>> candidates;

    private DistillationChain(Builder b, Map<String, List<AssistantFamily.Candidate>> candidates) {
        this.input = b.input;
        this.train = b.train;
        this.validation = b.validation;
        this.models = Map.copyOf(b.models);
        this.plan = Plan.of(b.chains, model -> b.baseline && b.models.get(model) instanceof Model.Declared);
        this.seed = b.seed;
        this.listeners = b.listeners;
        this.candidates = Map.copyOf(candidates);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The nodes {@link #train()} trains, in order, with their ids. */
    public Plan plan() {
        return plan;
    }

    /** Trains every declared node of the plan in order; deterministic for a given seed. */
    public ChainResult train() {
        Map<String, Network> done = new HashMap<>();
        TeacherLogitsCache logits = new TeacherLogitsCache(train.features(), id -> Teacher.of(done.get(id)),
                TeacherLogitsCache.Store.NONE);
        LinkTrainer links = new LinkTrainer(input, train, validation, logits);
        List<ChainResult.Trained> trained = new ArrayList<>();
        List<ChainResult.Choice> choices = new ArrayList<>();
        for (Plan.Node node : plan.nodes()) {
            Model model = models.get(node.model());
            if (model instanceof Model.Given given) {
                done.put(node.id(), given.network());
                trained.add(new ChainResult.Trained(node, given.network(), null));
                continue;
            }
            if (done.containsKey(node.id())) {
                continue;   // a mutual peer, trained with its group
            }
            if (node.mutual()) {
                trainMutual(plan.group(node), links, done, trained);
                continue;
            }
            if (model instanceof Model.Auto auto) {
                choices.add(chooseAssistant(node, auto, links, done, trained));
                continue;
            }
            trained.add(trainNode(node, (Model.Declared) model, links, done));
        }
        return new ChainResult(trained, choices);
    }

    private ChainResult.Trained trainNode(Plan.Node node, Model.Declared declared, LinkTrainer links,
            Map<String, Network> done) {
        Network net = links.build(node, declared.network(), declared.training(), seed);
        TrainingResult result = links.fit(node, declared.network(), net,
                new Trainer(declared.training(), listeners.apply(node.id())), seed, null);
        done.put(node.id(), net);
        return new ChainResult.Trained(node, net, result);
    }

    /**
     * An automatic assistant: every candidate distilled from the teacher, then the student distilled from
     * each; the candidate whose student validates best ({@link ValidationChoice}) and that student become the
     * plan's two nodes.
     */
    private ChainResult.Choice chooseAssistant(Plan.Node node, Model.Auto auto, LinkTrainer links,
            Map<String, Network> done, List<ChainResult.Trained> trained) {
        Plan.Node studentNode = plan.taughtBy(node);
        Model.Declared student = (Model.Declared) models.get(studentNode.model());
        List<AssistantFamily.Candidate> family = candidates.get(node.model());
        List<ChainResult.Trained[]> pairs = new ArrayList<>();
        List<double[]> validation = new ArrayList<>();
        for (AssistantFamily.Candidate candidate : family) {
            ChainResult.Trained assistant = trainNode(candidate.assistantNode(node),
                    new Model.Declared(candidate.network(), auto.training()), links, done);
            ChainResult.Trained taught = trainNode(candidate.studentNode(studentNode), student, links, done);
            pairs.add(new ChainResult.Trained[] {assistant, taught});
            validation.add(new double[] {taught.training().bestValidationAccuracy()});
        }
        int chosen = ValidationChoice.best(validation);
        ChainResult.Trained[] pair = pairs.get(chosen);
        done.put(node.id(), pair[0].network());
        done.put(studentNode.id(), pair[1].network());
        trained.add(new ChainResult.Trained(node, pair[0].network(), pair[0].training()));
        trained.add(new ChainResult.Trained(studentNode, pair[1].network(), pair[1].training()));
        List<ChainResult.Candidate> results = new ArrayList<>();
        for (int i = 0; i < family.size(); i++) {
            results.add(new ChainResult.Candidate(family.get(i), pairs.get(i)[0].training().bestValidationAccuracy(),
                    List.of(validation.get(i)[0])));
        }
        return new ChainResult.Choice(node.id(), studentNode.id(), results, chosen);
    }

    /** Trains a mutual group together ({@link MutualLearning}), each student with its own seed. */
    private void trainMutual(List<Plan.Node> group, LinkTrainer links, Map<String, Network> done,
            List<ChainResult.Trained> trained) {
        List<Network> nets = new ArrayList<>();
        List<List<TrainingListener>> groupListeners = new ArrayList<>();
        for (int i = 0; i < group.size(); i++) {
            Model.Declared declared = (Model.Declared) models.get(group.get(i).model());
            nets.add(links.build(group.get(i), declared.network(), declared.training(),
                    MutualLearning.seedOf(seed, i)));
            groupListeners.add(listeners.apply(group.get(i).id()));
        }
        TrainingSpec spec = ((Model.Declared) models.get(group.get(0).model())).training();
        List<TrainingResult> results = MutualLearning.fit(nets, spec, group.get(0).distillation().temperature(),
                groupListeners, train, validation, seed);
        for (int i = 0; i < group.size(); i++) {
            done.put(group.get(i).id(), nets.get(i));
            trained.add(new ChainResult.Trained(group.get(i), nets.get(i), results.get(i)));
        }
    }

    /** Collects a chain's parts; {@link #build()} checks them together. */
    public static final class Builder {
        private InputShape input;
        private LabeledData train;
        private LabeledData validation;
        private final Map<String, Model> models = new LinkedHashMap<>();
        private final List<Chain> chains = new ArrayList<>();
        private boolean baseline;
        private long seed = 1;
        private Function<String, List<TrainingListener>> listeners = id -> List.of();

        private Builder() {
        }

        /** The shape of one example (what the networks are built for). */
        public Builder setInput(InputShape input) {
            this.input = Objects.requireNonNull(input, "input");
            return this;
        }

        /** Training examples, and the held-out ones that pick each training's best epoch (may be empty). */
        public Builder setData(LabeledData train, LabeledData validation) {
            this.train = Objects.requireNonNull(train, "train");
            this.validation = Objects.requireNonNull(validation, "validation");
            return this;
        }

        /** A model the chain trains. */
        public Builder addModel(String name, NetworkSpec network, TrainingSpec training) {
            return add(name, new Model.Declared(network, training));
        }

        /**
         * An automatic teacher assistant, to be placed between a teacher and a student in one chain
         * ({@code addChain(settings, "teacher", name, "student")}): the candidates of {@code family}, each
         * trained with {@code training}, and the one whose student validates best kept.
         */
        public Builder addAutoAssistant(String name, AssistantFamily family, TrainingSpec training) {
            return add(name, new Model.Auto(family, training));
        }

        /** A trained network that teaches and is never trained further. */
        public Builder addTrained(String name, Network network) {
            return add(name, new Model.Given(network));
        }

        /** A chain of model names, teacher first; each link is distilled with {@code settings}. */
        public Builder addChain(DistillationSettings settings, String... models) {
            chains.add(new Chain(List.of(models), Objects.requireNonNull(settings, "settings")));
            return this;
        }

        /**
         * A born-again chain (Furlanello et al. 2018): {@code model} → {@code generations} models of its
         * own architecture and training ({@link Chain#generation}), each distilled from the one before.
         */
        public Builder addBornAgain(DistillationSettings settings, String model, int generations) {
            Chain chain = Chain.bornAgain(model, generations, settings);
            new ChainRules(members()).bornAgain(chain);
            for (String name : chain.models().subList(1, chain.models().size())) {
                add(name, models.get(model));
            }
            chains.add(chain);
            return this;
        }

        /**
         * An ensemble link: {@code teachers} (each added with addModel or addTrained; each trained on labels
         * alone or given) teach {@code student} through the average of their softened probabilities, weighted
         * by {@code weights} (null: equal), with the loss of {@code settings} (kd or dkd).
         */
        public Builder addEnsemble(DistillationSettings settings, List<String> teachers, List<Double> weights,
                String student) {
            chains.add(Chain.ensemble(teachers, weights, student, Objects.requireNonNull(settings, "settings")));
            return this;
        }

        /**
         * Deep mutual learning of {@code students} (each added with addModel): trained together, each
         * distilled with {@code settings}' loss from the others' current predictions ({@link MutualLearning}).
         */
        public Builder addMutual(DistillationSettings settings, String... students) {
            chains.add(Chain.mutual(List.of(students), Objects.requireNonNull(settings, "settings")));
            return this;
        }

        /** Also train each final student on labels alone, to show what distillation adds (default: no). */
        public Builder optBaseline(boolean baseline) {
            this.baseline = baseline;
            return this;
        }

        /** The seed of every network's initialisation and every training's shuffle (default 1). */
        public Builder optSeed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Listeners for each node's training, by node id (progress, metric logs). */
        public Builder optListeners(Function<String, List<TrainingListener>> listeners) {
            this.listeners = Objects.requireNonNull(listeners, "listeners");
            return this;
        }

        /** @throws IllegalArgumentException naming the first part that is missing or does not fit */
        public DistillationChain build() {
            if (input == null) {
                throw new IllegalArgumentException("setInput: the chain needs the input shape");
            }
            if (train == null) {
                throw new IllegalArgumentException("setData: the chain needs training data");
            }
            if (train.featureCount() != input.size() || validation.size() > 0 && validation.featureCount() != input.size()) {
                throw new IllegalArgumentException("setData: examples have " + train.featureCount() + " features but "
                        + "the input " + input + " needs " + input.size());
            }
            if (chains.isEmpty()) {
                throw new IllegalArgumentException("addChain: the chain needs at least one chain, e.g. teacher, student");
            }
            ChainRules rules = new ChainRules(members());
            for (Chain chain : chains) {
                rules.add(chain);
            }
            return new DistillationChain(this, rules.autoAssistants(chains));
        }

        /** The models as {@link ChainRules} sees them. */
        private Map<String, ChainRules.Member> members() {
            Map<String, ChainRules.Member> members = new LinkedHashMap<>();
            models.forEach((name, model) -> members.put(name, model instanceof Model.Declared d
                    ? ChainRules.Member.declared(d.network(), d.training())
                    : model instanceof Model.Auto a ? ChainRules.Member.auto(a.family(), a.training())
                    : ChainRules.Member.trained()));
            return members;
        }

        private Builder add(String name, Model model) {
            Objects.requireNonNull(name, "name");
            if (models.putIfAbsent(name, model) != null && !models.get(name).equals(model)) {
                throw new IllegalArgumentException("a model named '" + name + "' was added already");
            }
            return this;
        }
    }
}
