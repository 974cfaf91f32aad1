package dev.distill.runner.pipeline;

import dev.distill.core.DistillException;
import dev.distill.core.chain.Plan;
import dev.distill.runner.config.ExperimentConfig;
import dev.distill.runner.config.ModelConfig;
import java.util.Locale;

/** A config's {@link Plan} (its chains, and baselines of declared students if asked), and its size in training runs. */
public final class ExperimentPlan {

    /** Beyond this many training runs, {@code distill run} asks for {@code --yes} first. */
    public static final long CONFIRM_ABOVE = 200;

    private ExperimentPlan() {
    }

    public static Plan of(ExperimentConfig config) {
        return Plan.of(config.chains(),
                model -> config.baseline() && config.models().get(model) instanceof ModelConfig.Declared);
    }

    /**
     * How many models the plan trains: each declared node once per seed it runs with (students and
     * baselines over the seeds), and each swept link's points over the same seeds.
     */
    public static long trainings(Plan plan, ExperimentConfig config) {
        long n = 0;
        for (Plan.Node node : plan.nodes()) {
            if (config.models().get(node.model()) instanceof ModelConfig.Declared) {
                long seeds = node.perSeed() ? config.seeds().size() : 1;
                n += seeds * (1 + Sweep.labels(config, node).size());
            } else if (config.models().get(node.model()) instanceof ModelConfig.Auto auto) {
                // every candidate once, and its student over the student's seeds; the student's node, counted
                // above as one student, is the chosen candidate's
                long candidates = auto.candidates().size();
                long seeds = plan.taughtBy(node).perSeed() ? config.seeds().size() : 1;
                n += candidates + (candidates - 1) * seeds;
            }
        }
        return n;
    }

    /**
     * Whether {@code node} is made by an automatic assistant's choice: the assistant's node, or the node it
     * teaches. Neither is swept or trained as itself: each is the chosen candidate's.
     */
    public static boolean chosenByAutoAssistant(ExperimentConfig config, Plan plan, Plan.Node node) {
        if (config.models().get(node.model()) instanceof ModelConfig.Auto) {
            return true;
        }
        return node.parentId() != null && plan.nodes().stream().anyMatch(n -> n.id().equals(node.parentId())
                && config.models().get(n.model()) instanceof ModelConfig.Auto);
    }

    /**
     * Refuses, in one line giving the plan's size, a plan of more than {@link #CONFIRM_ABOVE} training
     * runs unless {@code confirmed} ({@code --yes}): 10,000 seeds should not start 10,000 trainings
     * without a word.
     */
    public static void confirmSize(Plan plan, ExperimentConfig config, boolean confirmed) {
        long n = trainings(plan, config);
        if (n > CONFIRM_ABOVE && !confirmed) {
            throw new DistillException(String.format(Locale.ROOT,
                    "%s: the plan trains %,d models (%d node(s), %,d seed(s)), more than %,d: check seeds: and the "
                            + "sweep, or run again with --yes to start them all", config.file(), n, plan.nodes().size(),
                    config.seeds().size(), CONFIRM_ABOVE));
        }
    }
}
