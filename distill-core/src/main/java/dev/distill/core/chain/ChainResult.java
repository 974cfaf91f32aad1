package dev.distill.core.chain;

import dev.distill.core.train.TrainingResult;
import dev.distill.models.network.Network;
import java.util.List;

/**
 * Every node of a trained {@link DistillationChain}, in the plan's order (an automatic assistant's two nodes
 * and a mutual group's students where the first of them is), and each automatic assistant's choice.
 */
public record ChainResult(List<Trained> models, List<Choice> choices) {

    /**
     * One node's network, trained in place (or given), and its training's history and best epoch
     * ({@code training} is null for a given network, which is never trained).
     */
    public record Trained(Plan.Node node, Network network, TrainingResult training) {
    }

    /**
     * One candidate of an automatic assistant: its own best validation accuracy (distilled from the teacher)
     * and that of the student it taught, per seed.
     */
    public record Candidate(AssistantFamily.Candidate candidate, double assistantValidationAccuracy,
            List<Double> studentValidationAccuracy) {
        public Candidate {
            studentValidationAccuracy = List.copyOf(studentValidationAccuracy);
        }
    }

    /**
     * An automatic assistant's choice: the node {@code assistant} became candidate {@code chosen} (an index
     * into {@code candidates}), the one whose student ({@code student}) had the best validation accuracy.
     */
    public record Choice(String assistant, String student, List<Candidate> candidates, int chosen) {
        public Choice {
            candidates = List.copyOf(candidates);
        }

        public Candidate chosenCandidate() {
            return candidates.get(chosen);
        }
    }

    public ChainResult {
        models = List.copyOf(models);
        choices = List.copyOf(choices);
    }

    public ChainResult(List<Trained> models) {
        this(models, List.of());
    }

    /** The node of this id ({@code teacher}, {@code student-from-teacher}, {@code student-baseline}, ...). */
    public Trained model(String id) {
        return models.stream().filter(m -> m.node().id().equals(id)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no model '" + id + "' in the chain; its models: "
                        + String.join(", ", models.stream().map(m -> m.node().id()).toList())));
    }
}
