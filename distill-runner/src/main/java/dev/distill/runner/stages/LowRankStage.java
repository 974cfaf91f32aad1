package dev.distill.runner.stages;

import dev.distill.runner.report.RunSummary.StageResult;

import dev.distill.runner.report.RunSummary.Training;

import dev.distill.core.eval.Accuracy;
import dev.distill.core.io.ModelFiles;
import dev.distill.core.lowrank.LowRankSettings;
import dev.distill.core.lowrank.LowRanking;
import dev.distill.models.spec.ModelCost;
import dev.distill.runner.config.ExperimentConfig;
import dev.distill.runner.config.StageConfig;
import dev.distill.runner.pipeline.ExperimentData;
import dev.distill.core.chain.Plan;
import dev.distill.runner.pipeline.RunDirectory;
import dev.distill.runner.report.Predictions;
import dev.distill.runner.report.RunSummary.LayerEntry;
import dev.distill.runner.report.RunSummary.ModelEntry;
import dev.distill.runner.report.SavedModel;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code low_rank} stage: the student's chosen layers factorized from their truncated SVDs, input
 * to output, each followed by fine-tuning ({@link LowRanking}). The result is a smaller architecture,
 * not a compressed encoding of the same one, so it is saved as an ordinary DL4J model file
 * ({@code models/<input id>-lowrank.zip}) and its parameters and multiply-adds are counted from its
 * spec like any declared model's. Per layer, the rank, the relative Frobenius reconstruction error
 * and the validation accuracy before and after fine-tuning go into the entry's stage details.
 */
record LowRankStage(StageContext context) implements CompressionStage<StageConfig.LowRank> {

    @Override
    public StageRunner.Current run(StageConfig.LowRank stage, Plan.Node node, StageRunner.Current input,
            List<ModelEntry> entries) {
        LowRankSettings settings = stage.settings();
        ExperimentConfig config = context.config();
        ExperimentData data = context.data();
        long seed = config.seeds().get(0);
        String id = input.id() + "-lowrank";
        StageContext.Tuning tuning = context.tuning(node, stage.learningRate(), stage.distillLoss(), id);
        String rule = settings.energy() != null ? String.format(Locale.ROOT, "energy %.3f", settings.energy())
                : String.format(Locale.ROOT, "param_ratio %.3f", settings.paramRatio());
        PrintStream out = context.out();
        out.printf(Locale.ROOT, "%s (low rank, %s, conv %s; fine-tuning %d epoch(s) a layer with %s) from %s%n", id,
                rule, lower(settings.conv()), settings.fineTuneEpochs(), tuning.describe(node), input.id());
        LowRanking.Outcome o = new LowRanking(settings, tuning.fineTuning()).run(input.net(), input.spec());

        int[] predicted = Accuracy.predict(o.net(), data.test().features());
        RunDirectory run = context.run();
        run.write(Predictions.file(id), Predictions.predictionsJson(id, seed, predicted));
        double accuracy = Accuracy.of(predicted, data.test().labels());
        double inputAccuracy = Accuracy.of(input.net(), data.test());
        Path file = run.model(id + ".zip");
        ModelFiles.saveForShipping(o.net(), file);
        long fileBytes = StageRunner.size(file);
        ModelCost cost = o.spec().cost(config.data().input(), config.data().classes());
        ModelCost inputCost = input.spec().cost(config.data().input(), config.data().classes());

        Map<String, Object> details = new LinkedHashMap<>();
        if (settings.energy() != null) {
            details.put("energy", settings.energy());
        } else {
            details.put("param_ratio", settings.paramRatio());
        }
        details.put("conv", lower(settings.conv()));
        details.put("fine_tune_epochs", settings.fineTuneEpochs());
        details.put("loss", tuning.distill() ? "distill" : "hard");
        details.put("input_test_accuracy", inputAccuracy);
        details.put("input_params", inputCost.params());
        details.put("input_multiply_adds", inputCost.multiplyAdds());
        details.put("input_file_bytes", input.fileBytes());
        details.put("validation_accuracy_before", o.validationBefore());
        List<Map<String, Object>> layers = new ArrayList<>();
        for (LowRanking.LayerOutcome l : o.layers()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("layer", l.layer());
            m.put("matrix", l.rows() + "x" + l.columns());
            m.put("rank", l.rank());
            m.put("full_rank", l.fullRank());
            m.put("factorized", l.factorized());
            m.put("energy_kept", l.energyKept());
            m.put("reconstruction_error", l.reconstructionError());
            m.put("params_before", l.paramsBefore());
            m.put("params_after", l.paramsAfter());
            m.put("validation_accuracy_factorized", l.validationAfterFactorizing());
            m.put("validation_accuracy_fine_tuned", l.validationAfterFineTuning());
            layers.add(m);
        }
        details.put("layers", layers);

        List<LayerEntry> layerCosts = cost.layers().stream()
                .map(l -> new LayerEntry(l.index(), l.type(), l.outputShape(), l.params(), l.multiplyAdds())).toList();
        SavedModel saved = SavedModel.read(file);
        double validation = Accuracy.of(o.net(), data.validation());
        boolean distill = tuning.distill();
        entries.add(StageContext.entry(id, node, distill, accuracy, cost.params(), fileBytes, cost.multiplyAdds(),
                new Training(o.seconds(), null, null, validation), "models/" + id + ".zip", saved.nonzero(), layerCosts,
                new StageResult("low_rank", input.id(), null, null, null, details)));
        for (LowRanking.LayerOutcome l : o.layers()) {
            out.printf(Locale.ROOT, "  %s %s: %s%n", l.layer(), l.rows() + "x" + l.columns(), l.factorized()
                    ? String.format(Locale.ROOT, "rank %d of %d, reconstruction error %.4f, %,d -> %,d params, "
                            + "validation accuracy %.4f factorized, %.4f fine-tuned", l.rank(), l.fullRank(),
                            l.reconstructionError(), l.paramsBefore(), l.paramsAfter(), l.validationAfterFactorizing(),
                            l.validationAfterFineTuning())
                    : String.format(Locale.ROOT, "kept (rank %d of %d would not be smaller: %,d params for %,d)",
                            l.rank(), l.fullRank(), l.paramsFactorized(), l.paramsBefore()));
        }
        out.printf(Locale.ROOT, "  %s: test accuracy %.4f (%s: %.4f), %,d params (%,d), %,d multiply-adds (%,d), "
                + "file %,d bytes (%,d), %.1f s%n", id, accuracy, input.id(), inputAccuracy, cost.params(),
                inputCost.params(), cost.multiplyAdds(), inputCost.multiplyAdds(), fileBytes, input.fileBytes(),
                o.seconds());
        return new StageRunner.Current(id, o.net(), o.spec(), fileBytes);
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }
}
