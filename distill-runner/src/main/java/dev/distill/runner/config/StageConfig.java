package dev.distill.runner.config;

import dev.distill.core.lowrank.LowRankSettings;
import dev.distill.core.prune.PruneSettings;
import dev.distill.core.quant.QuantSettings;
import java.util.List;

/**
 * A stage applied after distillation, from the config's {@code stages:} list, in order. Each stage
 * applies to the final student of every chain (or only to the models it names), and a later stage
 * takes the earlier stage's output for the same student.
 */
public sealed interface StageConfig {

    /** Position in the {@code stages:} list. */
    int index();

    /** Model names the stage is limited to; empty for every chain's final student. */
    List<String> models();

    /** One line for {@code distill validate}: what the stage does. */
    String describe();

    /**
     * Pruning, then fine-tuning with the distillation loss from the student's own teacher
     * ({@code distillLoss}) or with the hard labels alone.
     *
     * @param learningRate fine-tuning learning rate, or null for the model's own
     */
    record Prune(int index, List<String> models, boolean distillLoss, Double learningRate, PruneSettings settings)
            implements StageConfig {
        public Prune {
            models = List.copyOf(models);
        }

        @Override
        public String describe() {
            return String.format(java.util.Locale.ROOT, "prune %s, %s, %s to sparsity %s, %d fine-tuning epoch(s)",
                    lower(settings.method()), lower(settings.scope()), lower(settings.schedule()), settings.sparsity(),
                    settings.fineTuneEpochs());
        }
    }

    /**
     * Quantization of the student's weights into a packed file, then the scheme's fine-tuning with the
     * distillation loss from the student's own teacher ({@code distillLoss}) or with the hard labels.
     * Its output is an end point: the next stage starts from the same model this one started from.
     *
     * @param learningRate fine-tuning learning rate, or null for the default (k-means: {@link #KMEANS_LEARNING_RATE};
     *                     otherwise the model's own)
     */
    record Quantize(int index, List<String> models, boolean distillLoss, Double learningRate, QuantSettings settings)
            implements StageConfig {

        /**
         * Default SGD learning rate of k-means centroid fine-tuning: a centroid moves by the rate times the
         * sum of its members' gradients, hundreds to thousands of them, so the model's Adam rate is too large.
         */
        public static final double KMEANS_LEARNING_RATE = 1e-4;

        public Quantize {
            models = List.copyOf(models);
        }

        @Override
        public String describe() {
            QuantSettings q = settings;
            String what = switch (q.scheme()) {
                case INT8 -> String.format(java.util.Locale.ROOT, "int%d %s %s, activations %s", q.bits(),
                        q.symmetric() ? "symmetric" : "asymmetric", q.perChannel() ? "per channel" : "per tensor",
                        lower(q.calibration()));
                case KMEANS -> String.format(java.util.Locale.ROOT, "k-means %d-bit (%d shared values per layer, %s "
                        + "init)", q.bits(), q.levels(), lower(q.init()));
                case BINARY -> "binary (sign x " + (q.perChannel() ? "per-channel" : "per-layer") + " scale)";
            };
            boolean tuned = q.fineTuneEpochs() > 0 && (q.scheme() != QuantSettings.Scheme.INT8 || q.qat());
            return "quantize " + what + (tuned ? ", " + q.fineTuneEpochs() + " fine-tuning epoch(s)" : "")
                    + (q.qat() ? " (qat)" : "") + (q.huffman() ? ", huffman" : "");
        }
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * Low-rank factorization of the chosen layers, input to output, each followed by fine-tuning with
     * the distillation loss from the student's own teacher ({@code distillLoss}) or the hard labels.
     *
     * @param learningRate fine-tuning learning rate, or null for the model's own
     */
    record LowRank(int index, List<String> models, boolean distillLoss, Double learningRate, LowRankSettings settings)
            implements StageConfig {
        public LowRank {
            models = List.copyOf(models);
        }

        @Override
        public String describe() {
            LowRankSettings l = settings;
            return String.format(java.util.Locale.ROOT, "low rank, %s, layers %s, conv %s, %d fine-tuning epoch(s) a "
                    + "layer", l.energy() != null ? "energy " + l.energy() : "param_ratio " + l.paramRatio(),
                    l.layers().isEmpty() ? "all dense and conv2d" : String.join(", ", l.layers()), lower(l.conv()),
                    l.fineTuneEpochs());
        }
    }

    /**
     * Export of every final model of the run (each chain's final student, and each stage's output that
     * is a DL4J network) to {@code models/<id>.<format>}, checked against DL4J on the test split. Changes
     * no model: the next stage starts from the same one.
     */
    record Export(int index, List<String> models, String format) implements StageConfig {
        public Export {
            models = List.copyOf(models);
        }

        @Override
        public String describe() {
            return "export to " + format + " (models/<id>." + format + ", compared with DL4J on the test split)";
        }
    }
}
