package dev.distill.runner.stages;

import static dev.distill.runner.stages.StageRunner.layerName;
import static dev.distill.runner.stages.StageRunner.lower;
import static dev.distill.runner.stages.StageRunner.SPEED_REPEATS;
import static dev.distill.runner.stages.StageRunner.repeated;
import static dev.distill.runner.stages.StageRunner.size;

import dev.distill.core.chain.Plan;
import dev.distill.core.eval.Accuracy;
import dev.distill.core.eval.InferenceSpeed;
import dev.distill.core.io.ModelFiles;
import dev.distill.core.prune.Pruning;
import dev.distill.core.prune.SparseModelFile;
import dev.distill.models.spec.ModelCost;
import dev.distill.runner.config.ExperimentConfig;
import dev.distill.runner.config.StageConfig;
import dev.distill.runner.pipeline.ExperimentData;
import dev.distill.runner.pipeline.RunDirectory;
import dev.distill.runner.report.Predictions;
import dev.distill.runner.report.RunSummary.LayerEntry;
import dev.distill.runner.report.RunSummary.ModelEntry;
import dev.distill.runner.report.RunSummary.StageResult;
import dev.distill.runner.report.RunSummary.TensorEntry;
import dev.distill.runner.report.RunSummary.Training;
import dev.distill.runner.report.SavedModel;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * The {@code prune} stage on one student: prune and fine-tune ({@link Pruning}: magnitude or
 * structured, one shot, gradual or iterative), write the sparse file {@code models/<input id>-pruned.sparse},
 * and measure it against its input: test accuracy, file bytes (and the same network as a dense DL4J
 * zip), inference speed timed in turns in this process, per-tensor storage.
 */
record PruneStage(StageContext context) implements CompressionStage<StageConfig.Prune> {

    @Override
    public StageRunner.Current run(StageConfig.Prune stage, Plan.Node node, StageRunner.Current input,
            List<ModelEntry> entries) {
        ExperimentConfig config = context.config();
        ExperimentData data = context.data();
        RunDirectory run = context.run();
        PrintStream out = context.out();
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
        long denseZip = denseZipBytes(run, o.net(), id);
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
        entries.add(StageContext.entry(id, node, distill, accuracy, saved.nonzero(), fileBytes, cost.multiplyAdds(),
                new Training(o.seconds(), null, null, validation), "models/" + id + ".sparse", saved.nonzero(), layers,
                new StageResult("prune", input.id(), o.sparsity(), o.layerSparsity(), tensors, details)));
        out.printf(Locale.ROOT, "  %s: sparsity %.3f, test accuracy %.4f (%s: %.4f), %,d non-zero params, file %,d bytes "
                + "(%s: %,d; its dense zip would be %,d), %.0f vs %.0f examples/s, %.1f s%n", id, o.sparsity(),
                accuracy, input.id(), inputAccuracy, saved.nonzero(), fileBytes, input.id(), input.fileBytes(),
                denseZip, speed[1], speed[0], o.seconds());
        if (o.stopped() != null) {
            out.println("  stopped at " + o.stopped());
        }
        return new StageRunner.Current(id, o.net(), o.spec(), fileBytes);
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

    /** Bytes of the same network in DL4J's zip, for comparison (the zip deflates zeros too). */
    private static long denseZipBytes(RunDirectory run, MultiLayerNetwork net, String id) {
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

}
