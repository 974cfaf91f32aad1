package dev.distill.runner.stages;

import dev.distill.core.modelfile.ModelReader;

import dev.distill.core.eval.Accuracy;
import dev.distill.core.eval.InferenceSpeed;
import dev.distill.core.io.ModelFiles;
import dev.distill.core.prune.Pruning;
import dev.distill.core.prune.SparseModelFile;
import dev.distill.core.train.TrainingListener;
import dev.distill.models.spec.ModelCost;
import dev.distill.models.spec.ModelSpec;
import dev.distill.runner.config.ExperimentConfig;
import dev.distill.runner.config.ModelConfig;
import dev.distill.runner.config.StageConfig;
import dev.distill.runner.pipeline.ExperimentData;
import dev.distill.core.chain.Plan;
import dev.distill.runner.pipeline.RunDirectory;
import dev.distill.runner.report.Predictions;
import dev.distill.runner.report.RunSummary.LayerEntry;
import dev.distill.runner.report.RunSummary.ModelEntry;
import dev.distill.runner.report.RunSummary.TensorEntry;
import dev.distill.runner.report.SavedModel;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Runs the config's stages on the chains' final students (the first seed's model, the one shipped
 * in {@code models/<id>.zip}), in order: a later stage takes the earlier one's output for the same
 * student, except that a quantization stage's packed file is an end point (see {@link QuantizeStage}).
 * Each stage's model is saved ({@code models/<input id>-pruned.sparse}, {@code models/<input
 * id>-lowrank.zip} by {@link LowRankStage}, {@code models/<input id>-int8.packed} ...), its test
 * predictions beside the others', and it becomes a summary entry with role {@code stage}.
 */
public final class StageRunner {

    /** Passes over the test set per timing; the median is kept. */
    static final int SPEED_REPEATS = 7;
    /** Examples per timing pass, the test set repeated to reach it (small test sets time badly). */
    private static final int SPEED_EXAMPLES = 8192;

    private final ExperimentConfig config;
    private final ExperimentData data;
    private final RunDirectory run;
    private final PrintStream out;
    private final Function<Plan.Node, INDArray> teacherLogits;
    private final Function<String, TrainingListener> progress;
    private final StageContext context;
    private final LowRankStage lowRank;
    private final QuantizeStage quantize;

    /** A model a stage starts from: its id in the run, network and architecture. */
    record Current(String id, MultiLayerNetwork net, ModelSpec spec, long fileBytes) {
    }

    /**
     * @param teacherLogits what a distilled node learns from, as one teacher's logits on the training split
     * @param progress      a console progress listener for a label
     */
    public StageRunner(ExperimentConfig config, ExperimentData data, RunDirectory run, PrintStream out,
            Function<Plan.Node, INDArray> teacherLogits, Function<String, TrainingListener> progress) {
        this.config = config;
        this.data = data;
        this.run = run;
        this.out = out;
        this.teacherLogits = teacherLogits;
        this.progress = progress;
        this.context = new StageContext(config, data, run, out, teacherLogits, progress);
        this.lowRank = new LowRankStage(context);
        this.quantize = new QuantizeStage(context);
    }

    /**
     * @param students the chains' final students; their shipped files ({@code models/<id>.zip}) are read,
     *                 so a resumed run whose students finished earlier prunes the same models
     */
    public List<ModelEntry> run(List<Plan.Node> students) {
        List<ModelEntry> entries = new ArrayList<>();
        Map<String, Current> current = new LinkedHashMap<>();
        for (Plan.Node node : students) {
            ModelConfig.Declared declared = (ModelConfig.Declared) config.models().get(node.model());
            Path file = run.model(node.id() + ".zip");
            MultiLayerNetwork net = ModelReader.sequential(file);
            current.put(node.id(), new Current(node.id(), net, declared.spec(), size(file)));
        }
        for (StageConfig stage : config.stages()) {
            if (stage instanceof StageConfig.Export) {
                // runs after every other stage, on their outputs too (see ExportStage)
                continue;
            }
            for (Plan.Node node : students) {
                if (!stage.models().isEmpty() && !stage.models().contains(node.model())) {
                    continue;
                }
                current.put(node.id(), dispatch(stage, node, current.get(node.id()), entries));
            }
        }
        return entries;
    }

    /** One stage on one student: the model the next stage starts from. */
    private Current dispatch(StageConfig stage, Plan.Node node, Current input, List<ModelEntry> entries) {
        if (stage instanceof StageConfig.Prune prune) {
            return prune(prune, node, input, entries);
        }
        if (stage instanceof StageConfig.Quantize quantize) {
            // a packed file is an end point: the next stage starts from the model this one started from
            entries.add(this.quantize.run(quantize, node, input));
            return input;
        }
        return lowRank.run((StageConfig.LowRank) stage, node, input, entries);
    }

    private Current prune(StageConfig.Prune stage, Plan.Node node, Current input, List<ModelEntry> entries) {
        long seed = config.seeds().get(0);
        String id = input.id() + "-pruned";
        StageContext.Tuning tuning = context.tuning(node, stage.learningRate(), stage.distillLoss(), id);
        boolean distill = tuning.distill();
        out.printf(Locale.ROOT, "%s (prune %s, %s, %s, sparsity %.2f; fine-tuning %d epoch(s) with %s) from %s%n", id,
                lower(stage.settings().method()), lower(stage.settings().scope()), lower(stage.settings().schedule()),
                stage.settings().sparsity(), stage.settings().fineTuneEpochs(), tuning.describe(node), input.id());
        Pruning.Outcome o = new Pruning(stage.settings(), tuning.fineTuning()).run(input.net(), input.spec(),
                config.data().input());

        int[] predicted = Accuracy.predict(o.net(), data.test().features());
        run.write(Predictions.file(id), Predictions.predictionsJson(id, seed, predicted));
        double accuracy = Accuracy.of(predicted, data.test().labels());
        double inputAccuracy = Accuracy.of(input.net(), data.test());
        Path file = run.model(id + ".sparse");
        List<SparseModelFile.TensorLayout> layouts = SparseModelFile.write(o.net(), file);
        long fileBytes = size(file);
        long denseZip = denseZipBytes(o.net(), id);
        double[] speed = InferenceSpeed.samplesPerSecond(repeated(data.test().features()), SPEED_REPEATS,
                input.net(), o.net());
        SavedModel saved = SavedModel.read(file);
        ModelCost cost = o.spec().cost(config.data().input(), config.data().classes());

        Map<String, Object> details = new LinkedHashMap<>();
        details.put("method", lower(stage.settings().method()));
        details.put("scope", lower(stage.settings().scope()));
        details.put("schedule", lower(stage.settings().schedule()));
        details.put("target_sparsity", stage.settings().sparsity());
        details.put("fine_tune_epochs", stage.settings().fineTuneEpochs());
        details.put("loss", distill ? "distill" : "hard");
        details.put("input_test_accuracy", inputAccuracy);
        details.put("input_file_bytes", input.fileBytes());
        details.put("input_params", input.net().numParams());
        details.put("dense_zip_bytes", denseZip);
        details.put("validation_accuracy_before", o.validationBefore());
        details.put("rounds", o.rounds());
        if (o.stopped() != null) {
            details.put("stopped", o.stopped());
        }
        details.put("inference_samples_per_s", speed[1]);
        details.put("input_inference_samples_per_s", speed[0]);
        details.put("load_average", java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                .getSystemLoadAverage());

        List<TensorEntry> tensors = new ArrayList<>();
        for (SparseModelFile.TensorLayout l : layouts) {
            String layerName = layerName(o.spec(), l.key());
            tensors.add(new TensorEntry(layerName, l.key(), l.count(), l.nonzero(), lower(l.encoding()),
                    l.indexBytes(), l.denseBytes(), l.storedBytes()));
        }
        List<LayerEntry> layers = cost.layers().stream()
                .map(l -> new LayerEntry(l.index(), l.type(), l.outputShape(), l.params(), l.multiplyAdds())).toList();
        double validation = o.rounds().isEmpty() ? o.validationBefore()
                : lastKept(o.rounds(), o.validationBefore());
        entries.add(new ModelEntry(id, node.model(), "stage", distill ? node.parentId() : null,
                distill ? node.distillation().temperature() : null, distill ? node.distillation().softWeightOrNull() : null,
                distill ? node.distillation().hardWeight() : null, accuracy, null, null, null, saved.nonzero(),
                fileBytes, cost.multiplyAdds(), o.seconds(), null, null, validation, "models/" + id + ".sparse",
                saved.nonzero(), layers, "prune", input.id(), o.sparsity(), o.layerSparsity(), tensors, details,
                null, null, null, null, null, null, null, null));
        out.printf(Locale.ROOT, "  %s: sparsity %.3f, test accuracy %.4f (%s: %.4f), %,d non-zero params, file %,d bytes "
                + "(%s: %,d; its dense zip would be %,d), %.0f vs %.0f examples/s, %.1f s%n", id, o.sparsity(),
                accuracy, input.id(), inputAccuracy, saved.nonzero(), fileBytes, input.id(), input.fileBytes(),
                denseZip, speed[1], speed[0], o.seconds());
        if (o.stopped() != null) {
            out.println("  stopped at " + o.stopped());
        }
        return new Current(id, o.net(), o.spec(), fileBytes);
    }

    private static double lastKept(List<Pruning.Round> rounds, double before) {
        double v = before;
        for (Pruning.Round r : rounds) {
            if (r.kept()) {
                v = r.validationAfterFineTuning();
            }
        }
        return v;
    }

    /** The layer name ({@code dense_0}) of a parameter key ({@code 0_W}). */
    static String layerName(ModelSpec spec, String key) {
        int index = Integer.parseInt(key.substring(0, key.indexOf('_')));
        return spec.layers().get(index).type() + "_" + index;
    }

    /** Bytes of the same network in DL4J's zip, for comparison (the zip deflates zeros too). */
    private long denseZipBytes(MultiLayerNetwork net, String id) {
        Path tmp = run.model("." + id + ".dense-size.zip");
        try {
            ModelFiles.saveForShipping(net, tmp);
            return size(tmp);
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // a stray measuring file is harmless
            }
        }
    }

    static INDArray repeated(INDArray features) {
        int times = (int) Math.max(1, (SPEED_EXAMPLES + features.rows() - 1) / features.rows());
        INDArray[] copies = new INDArray[times];
        java.util.Arrays.fill(copies, features);
        return org.nd4j.linalg.factory.Nd4j.vstack(copies);
    }

    static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
