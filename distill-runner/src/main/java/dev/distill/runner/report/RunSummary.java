package dev.distill.runner.report;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import dev.distill.core.chain.DistillationSettings;
import dev.distill.core.train.TrainingResult;
import java.util.List;
import java.util.Map;

/**
 * What {@code summary.json} holds; written last, atomically, so its presence means the run finished.
 * Field names are written in snake_case. Fields added after the first release ({@code nonzero_params},
 * {@code layers}, {@code logits_seconds}, the stage fields, {@code sweeps}) are null when read from an older run.
 * {@code sweeps} has one entry per swept link: every point tried and the one chosen on validation;
 * {@code assistants} one per automatic teacher assistant: every candidate and the one chosen on validation.
 */
public record RunSummary(String name, String config, String started, String finished, Dataset dataset,
        List<Long> seeds, List<ModelEntry> models, Map<String, String> provenance,
        Map<String, Double> logitsSeconds, List<SweepEntry> sweeps, List<AssistantEntry> assistants) {

    public RunSummary {
        seeds = List.copyOf(seeds);
        models = List.copyOf(models);
        logitsSeconds = logitsSeconds == null ? Map.of() : Map.copyOf(logitsSeconds);
        sweeps = sweeps == null ? List.of() : List.copyOf(sweeps);
        assistants = assistants == null ? List.of() : List.copyOf(assistants);
    }

    /**
     * An automatic teacher assistant's choice: the model entry {@code id} (the assistant) is candidate
     * {@code chosen}, the one whose student (the entry {@code student}) had the best mean validation accuracy.
     * Candidates are never tested: only the chosen pair is, as those two entries.
     */
    public record AssistantEntry(String id, String student, String chosen, List<AssistantCandidate> candidates) {
        public AssistantEntry {
            candidates = List.copyOf(candidates);
        }
    }

    /**
     * One candidate: its label ({@code w<width>}, also its unit ids after {@code <id>@}), model name, widest hidden
     * width and parameters, its own best-epoch validation accuracy (distilled from the teacher), its student's
     * over the seeds (mean, sample standard deviation, per seed: what the choice compares), and the training
     * seconds of the candidate and its students.
     */
    public record AssistantCandidate(String label, String model, int width, long params,
            double assistantValidationAccuracy, double studentValidationAccuracyMean,
            Double studentValidationAccuracyStd, List<Double> studentValidationAccuracyPerSeed, double trainSeconds,
            boolean chosen) {
        public AssistantCandidate {
            studentValidationAccuracyPerSeed = List.copyOf(studentValidationAccuracyPerSeed);
        }
    }

    /**
     * The sweep of one link ({@code id} is the model entry the chosen point became): every point with its
     * settings as the link ran them and its validation accuracy over the seeds. Points are never tested:
     * only the chosen one is, as the model entry {@code id}.
     */
    public record SweepEntry(String id, String model, String role, String chosen, List<SweepPoint> points) {
        public SweepEntry {
            points = List.copyOf(points);
        }
    }

    /**
     * One point of a sweep: its label (also its unit id after {@code <id>@}), the settings it trained with
     * (the distillation ones null for a model trained on labels alone), the mean, sample standard deviation
     * and per-seed values of its best-epoch validation accuracy, and its training seconds over all seeds.
     */
    public record SweepPoint(String label, Double temperature, Double softWeight, Double hardWeight, int epochs,
            double learningRate, String schedule, double weightDecay, double validationAccuracyMean,
            Double validationAccuracyStd, List<Double> validationAccuracyPerSeed, double trainSeconds,
            boolean chosen, Double alpha, Double beta) {
        public SweepPoint {
            validationAccuracyPerSeed = List.copyOf(validationAccuracyPerSeed);
        }
    }

    /** The data the models were trained and tested on. */
    public record Dataset(String name, String input, int classes, int train, int validation, int test) {
    }

    /**
     * One model. {@code testAccuracy} is the model in {@code file} (the first seed's, for students and
     * baselines); {@code nonzeroParams} is counted from the saved file's parameters; {@code layers} is the
     * declared architecture's per-layer cost (null for a loaded model). A stage's model ({@code role}
     * "stage") has its {@link StageResult}; its {@code params} are non-zero parameters and {@code file} is the
     * sparse, factorized or packed file. The parts a model may lack ({@link Distillation}, {@link Seeds},
     * {@link Training}, {@link StageResult}, {@link Verdict}, {@link Quantization}) are never null: their
     * {@code NONE} has null fields. In summary.json every part's fields sit flat in the entry, under the
     * keys the entry has always had ({@code SummaryKeysGoldenTest}).
     *
     * <p>Built by {@link #of} and the {@code with*} methods, each of which changes one part.
     */
    @JsonDeserialize(using = ModelEntryReader.class)
    public record ModelEntry(String id, String model, String role, @JsonUnwrapped Distillation distillation,
            double testAccuracy, @JsonUnwrapped Seeds seeds, long params, long fileBytes, Long flopsPerSample,
            @JsonUnwrapped Training training, String file, Long nonzeroParams, List<LayerEntry> layers,
            @JsonUnwrapped StageResult stageResult, @JsonUnwrapped Verdict verdict,
            @JsonUnwrapped Quantization quantization) {

        public ModelEntry {
            distillation = distillation == null ? Distillation.NONE : distillation;
            seeds = seeds == null ? Seeds.NONE : seeds;
            training = training == null ? Training.NONE : training;
            stageResult = stageResult == null ? StageResult.NONE : stageResult;
            verdict = verdict == null ? Verdict.NONE : verdict;
            quantization = quantization == null ? Quantization.NONE : quantization;
        }

        /**
         * A model with its size and file: not distilled, one seed, not trained here, no stage, no
         * verdict, not quantized until a {@code with*} method says otherwise.
         */
        public static ModelEntry of(String id, String model, String role, double testAccuracy, long params,
                long fileBytes, Long flopsPerSample, String file, Long nonzeroParams, List<LayerEntry> layers) {
            return new ModelEntry(id, model, role, null, testAccuracy, null, params, fileBytes, flopsPerSample, null,
                    file, nonzeroParams, layers, null, null, null);
        }

        public ModelEntry withDistillation(Distillation d) {
            return new ModelEntry(id, model, role, d, testAccuracy, seeds, params, fileBytes, flopsPerSample, training,
                    file, nonzeroParams, layers, stageResult, verdict, quantization);
        }

        public ModelEntry withSeeds(Seeds s) {
            return new ModelEntry(id, model, role, distillation, testAccuracy, s, params, fileBytes, flopsPerSample,
                    training, file, nonzeroParams, layers, stageResult, verdict, quantization);
        }

        public ModelEntry withTraining(Training t) {
            return new ModelEntry(id, model, role, distillation, testAccuracy, seeds, params, fileBytes, flopsPerSample,
                    t, file, nonzeroParams, layers, stageResult, verdict, quantization);
        }

        public ModelEntry withStageResult(StageResult s) {
            return new ModelEntry(id, model, role, distillation, testAccuracy, seeds, params, fileBytes, flopsPerSample,
                    training, file, nonzeroParams, layers, s, verdict, quantization);
        }

        /** The same entry with its distillation verdict against the baseline ({@link KdVerdict}). */
        public ModelEntry withVerdict(Verdict v) {
            return new ModelEntry(id, model, role, distillation, testAccuracy, seeds, params, fileBytes, flopsPerSample,
                    training, file, nonzeroParams, layers, stageResult, v, quantization);
        }

        public ModelEntry withQuantization(Quantization q) {
            return new ModelEntry(id, model, role, distillation, testAccuracy, seeds, params, fileBytes, flopsPerSample,
                    training, file, nonzeroParams, layers, stageResult, verdict, q);
        }

        /** The same entry with the counts {@code report --backfill} fills in. */
        public ModelEntry withCounts(Long nonzero, List<LayerEntry> perLayer) {
            return new ModelEntry(id, model, role, distillation, testAccuracy, seeds, params, fileBytes, flopsPerSample,
                    training, file, nonzero, perLayer, stageResult, verdict, quantization);
        }

        /** The figure the tables rank by: the mean over seeds where there are several, else the one model's. */
        @JsonIgnore
        public double accuracy() {
            return seeds.testAccuracyMean() != null ? seeds.testAccuracyMean() : testAccuracy;
        }
    }

    /** Whom a model was distilled from, with which settings (all null for a model trained on labels alone). */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Distillation(String distilledFrom, Double temperature, Double softWeight, Double hardWeight) {
        public static final Distillation NONE = new Distillation(null, null, null, null);

        /** Distilled from {@code teacher} with {@code settings}. */
        public static Distillation of(String teacher, DistillationSettings settings) {
            return new Distillation(teacher, settings.temperature(), settings.softWeightOrNull(),
                    settings.hardWeight());
        }
    }

    /** Over several seeds: the mean and sample standard deviation of the test accuracy, and each seed's. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Seeds(Double testAccuracyMean, Double testAccuracyStd, List<Double> testAccuracyPerSeed) {
        public static final Seeds NONE = new Seeds(null, null, null);

        public Seeds {
            testAccuracyPerSeed = testAccuracyPerSeed == null ? null : List.copyOf(testAccuracyPerSeed);
        }
    }

    /** How the model's training (or a stage's fine-tuning) went: seconds, and the epoch kept on validation. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Training(double trainSeconds, Double secondsPerEpoch, Integer bestEpoch, Double validationAccuracy) {
        public static final Training NONE = new Training(0, null, null, null);

        public static Training of(TrainingResult r) {
            return new Training(r.seconds(), r.secondsPerEpoch(), r.bestEpoch(), r.bestValidationAccuracy());
        }
    }

    /**
     * What a stage made ({@code stage}: prune, low_rank, quantize) from model {@code input}: the fraction
     * of its prunable weights that are zero or removed, per layer, its file's tensors, and the stage's details.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record StageResult(String stage, String input, Double sparsity,
            Map<String, Double> layerSparsity, List<TensorEntry> tensors, Map<String, Object> stageDetails) {
        public static final StageResult NONE = new StageResult(null, null, null, null, null, null);
    }

    /**
     * A distilled model against a baseline of the same architecture: the gain in mean test accuracy, its
     * standard error, Welch's two-sided p, and the verdict in words.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Verdict(Double kdGain, Double kdGainStd, Double kdGainP, String kdVerdict) {
        public static final Verdict NONE = new Verdict(null, null, null, null);
    }

    /**
     * A quantize stage's model: its scheme (int8, kmeans, binary) and bits, and for the integer path its
     * examples/s one at a time in integers beside its input model's in float32, timed in turns.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Quantization(String scheme, Integer bits, Double inferSamplesPerS, Double fp32InferSamplesPerS) {
        public static final Quantization NONE = new Quantization(null, null, null, null);
    }

    /**
     * One parameter tensor of a stage's model file: its values, how many are non-zero, how it is stored
     * (dense, csr, csc; index width in bytes) and its bytes dense against as stored.
     */
    public record TensorEntry(String layer, String tensor, long params, long nonzero, String encoding, int indexBytes,
            long denseBytes, long storedBytes) {
    }

    /** One layer of a declared model: its type, output shape, parameters and multiply-adds per example. */
    public record LayerEntry(int index, String type, String outputShape, long params, long multiplyAdds) {
    }
}
