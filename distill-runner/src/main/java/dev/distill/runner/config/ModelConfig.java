package dev.distill.runner.config;

import dev.distill.core.train.TrainingSpec;
import dev.distill.models.spec.ModelCost;
import dev.distill.models.spec.ModelSpec;
import dev.distill.models.spec.NetworkSpec;
import java.nio.file.Path;

/** A model of the experiment, by name: declared layer by layer, or loaded (frozen) from a DL4J file. */
public sealed interface ModelConfig {

    String name();

    /**
     * Declared in the config (layers, a graph or a zoo name), trained with {@code training};
     * {@code cost} was computed for the data's input.
     */
    record Declared(String name, NetworkSpec network, TrainingSpec training, ModelCost cost) implements ModelConfig {

        /** Whether the model is sequential (a list of layers), which stages and some tools need. */
        public boolean sequential() {
            return network instanceof ModelSpec;
        }

        /**
         * The sequential spec. Callers that handle only sequential models check {@link #sequential()}
         * first (config parsing refuses graphs where they are not supported).
         *
         * @throws IllegalStateException for a graph model
         */
        public ModelSpec spec() {
            if (network instanceof ModelSpec m) {
                return m;
            }
            throw new IllegalStateException("model " + name + " is a graph model; only sequential models (layers:) "
                    + "are supported here");
        }
    }

    /**
     * An automatic teacher assistant ({@code assistant: auto}): the candidates of {@code family} between its
     * chain's teacher and student, each trained with {@code training}; the one whose student has the best
     * validation accuracy becomes the assistant. {@code candidates} are resolved against the chain (empty
     * until then, and for an assistant in no chain).
     */
    record Auto(String name, dev.distill.core.chain.AssistantFamily family, TrainingSpec training,
            java.util.List<Candidate> candidates) implements ModelConfig {

        /** One candidate, and its declared model ({@code <name>_<label>}, its cost on the data's input). */
        public record Candidate(dev.distill.core.chain.AssistantFamily.Candidate of, Declared model) {
        }

        public Auto {
            candidates = java.util.List.copyOf(candidates);
        }

        /** The candidate of this label ({@code w32}). */
        public Candidate candidate(String label) {
            return candidates.stream().filter(c -> c.of().label().equals(label)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("no candidate " + label + " of " + name));
        }
    }

    /**
     * A pretrained model file, never trained further: a DL4J file (ModelSerializer zip), or an ONNX
     * model run by ONNX Runtime ({@code onnx} says how to feed it; null for a DL4J file), or the model
     * file of another config's run ({@code from} says which; null otherwise).
     */
    record Pretrained(String name, Path file, dev.distill.onnx.OnnxTeacherSpec onnx, DependencyRun from)
            implements ModelConfig {

        public Pretrained(String name, Path file) {
            this(name, file, null, null);
        }

        public Pretrained(String name, Path file, dev.distill.onnx.OnnxTeacherSpec onnx) {
            this(name, file, onnx, null);
        }
    }
}
