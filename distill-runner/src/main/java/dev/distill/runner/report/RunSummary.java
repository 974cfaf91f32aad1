package dev.distill.runner.report;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.util.List;
import java.util.Map;

/**
 * What {@code summary.json} holds; written last, atomically, so its presence means the run finished.
 * Field names are written in snake_case. Fields added after the first release ({@code nonzero_params},
 * {@code layers}, {@code logits_seconds}, the stage fields, {@code sweeps}) are null when read from an older run.
 * {@code sweeps} has one entry per swept link: every point tried and the one chosen on validation.
 */
public record RunSummary(String name, String config, String started, String finished, Dataset dataset,
        List<Long> seeds, List<ModelEntry> models, Map<String, String> provenance,
        Map<String, Double> logitsSeconds, List<SweepEntry> sweeps) {

    public RunSummary {
        seeds = List.copyOf(seeds);
        models = List.copyOf(models);
        logitsSeconds = logitsSeconds == null ? Map.of() : Map.copyOf(logitsSeconds);
        sweeps = sweeps == null ? List.of() : List.copyOf(sweeps);
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
     * baselines); with several seeds, mean and sample standard deviation over all of them.
     * {@code nonzeroParams} is counted from the saved file's parameters; {@code layers} is the declared
     * architecture's per-layer cost (null for a loaded model). A stage's model ({@code role} "stage")
     * has {@code stage} ("prune"), {@code input} (the id of the model it started from), {@code sparsity}
     * (fraction of its prunable weights that are zero, or removed by structured pruning), per-layer
     * sparsity, its file's tensors and the stage's details; its {@code params} are non-zero parameters
     * and {@code file} is the sparse file. A distilled model with a baseline of the same architecture has
     * {@code kdGain} (mean test accuracy minus the baseline's), {@code kdGainStd} (the standard error of
     * that difference), {@code kdGainP} (Welch's two-sided t-test) and {@code kdVerdict} in words. A
     * quantization stage's model ({@code stage} "quantize") has {@code scheme} (int8, kmeans, binary),
     * {@code bits}, and for the integer path {@code inferSamplesPerS} (one example at a time, in
     * integers) beside {@code fp32InferSamplesPerS} (its input model, one example at a time in float32,
     * timed in turns in the same process); its {@code file} is the packed file.
     */
    public record ModelEntry(String id, String model, String role, String distilledFrom, Double temperature,
            Double softWeight, Double hardWeight, double testAccuracy, Double testAccuracyMean,
            Double testAccuracyStd, List<Double> testAccuracyPerSeed, long params, long fileBytes,
            Long flopsPerSample, double trainSeconds, Double secondsPerEpoch, Integer bestEpoch,
            Double validationAccuracy, String file, Long nonzeroParams, List<LayerEntry> layers, String stage,
            String input, Double sparsity, Map<String, Double> layerSparsity, List<TensorEntry> tensors,
            Map<String, Object> stageDetails, Double kdGain, Double kdGainStd, Double kdGainP, String kdVerdict,
            String scheme, Integer bits, Double inferSamplesPerS, Double fp32InferSamplesPerS) {

        /** A model of a chain (no stage fields). */
        public ModelEntry(String id, String model, String role, String distilledFrom, Double temperature,
                Double softWeight, Double hardWeight, double testAccuracy, Double testAccuracyMean,
                Double testAccuracyStd, List<Double> testAccuracyPerSeed, long params, long fileBytes,
                Long flopsPerSample, double trainSeconds, Double secondsPerEpoch, Integer bestEpoch,
                Double validationAccuracy, String file, Long nonzeroParams, List<LayerEntry> layers) {
            this(id, model, role, distilledFrom, temperature, softWeight, hardWeight, testAccuracy, testAccuracyMean,
                    testAccuracyStd, testAccuracyPerSeed, params, fileBytes, flopsPerSample, trainSeconds,
                    secondsPerEpoch, bestEpoch, validationAccuracy, file, nonzeroParams, layers, null, null, null, null,
                    null, null, null, null, null, null, null, null, null, null);
        }

        /** The same entry with the counts {@code report --backfill} fills in. */
        public ModelEntry withCounts(Long nonzero, List<LayerEntry> perLayer) {
            return new ModelEntry(id, model, role, distilledFrom, temperature, softWeight, hardWeight, testAccuracy,
                    testAccuracyMean, testAccuracyStd, testAccuracyPerSeed, params, fileBytes, flopsPerSample,
                    trainSeconds, secondsPerEpoch, bestEpoch, validationAccuracy, file, nonzero, perLayer, stage, input,
                    sparsity, layerSparsity, tensors, stageDetails, kdGain, kdGainStd, kdGainP, kdVerdict, scheme, bits,
                    inferSamplesPerS, fp32InferSamplesPerS);
        }

        /** The same entry with its distillation verdict against the baseline ({@link KdVerdict}). */
        public ModelEntry withVerdict(Double gain, Double gainStd, Double p, String verdict) {
            return new ModelEntry(id, model, role, distilledFrom, temperature, softWeight, hardWeight, testAccuracy,
                    testAccuracyMean, testAccuracyStd, testAccuracyPerSeed, params, fileBytes, flopsPerSample,
                    trainSeconds, secondsPerEpoch, bestEpoch, validationAccuracy, file, nonzeroParams, layers, stage,
                    input, sparsity, layerSparsity, tensors, stageDetails, gain, gainStd, p, verdict, scheme, bits,
                    inferSamplesPerS, fp32InferSamplesPerS);
        }

        /** The figure the tables rank by: the mean over seeds where there are several, else the one model's. */
        @JsonIgnore
        public double accuracy() {
            return testAccuracyMean != null ? testAccuracyMean : testAccuracy;
        }
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
