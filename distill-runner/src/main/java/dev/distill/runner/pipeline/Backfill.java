package dev.distill.runner.pipeline;

import dev.distill.core.eval.Accuracy;
import dev.distill.runner.config.ConfigLoader;
import dev.distill.runner.config.ExperimentConfig;
import dev.distill.runner.config.ModelConfig;
import dev.distill.runner.report.Predictions;
import dev.distill.runner.report.ReportData;
import dev.distill.runner.report.ReportFiles;
import dev.distill.runner.report.RunSummary;
import dev.distill.runner.report.RunSummary.LayerEntry;
import dev.distill.runner.report.RunSummary.ModelEntry;
import dev.distill.runner.report.SavedModel;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * For runs made before the pipeline kept test predictions and per-layer costs ({@code distill report
 * --backfill}): reads the run's config.yaml and its data again, predicts the test set with each saved
 * model whose predictions are missing (written to predictions/), and fills each declared model's
 * per-layer costs from the config. summary.json is left as it is: the layers are recomputed whenever
 * the option is given.
 */
public final class Backfill {

    private Backfill() {
    }

    /** The summary with per-layer costs and non-zero counts filled where it lacks them. */
    public static RunSummary apply(Path runDir, RunSummary summary, PrintStream out) {
        ExperimentConfig config = ConfigLoader.load(runDir.resolve(ReportData.CONFIG));
        ExperimentData data = ExperimentData.load(config.data(), config.seed());
        if (data.test().size() != summary.dataset().test()) {
            throw new dev.distill.core.DistillException(runDir.resolve(ReportData.CONFIG) + ": its data has "
                    + data.test().size() + " test examples but the run had " + summary.dataset().test());
        }
        Path labels = runDir.resolve(Predictions.file(Predictions.LABELS));
        if (!Files.exists(labels)) {
            ReportFiles.write(labels, Predictions.labelsJson(data.test().labels(), config.data().classes()));
        }
        List<ModelEntry> models = new ArrayList<>();
        for (ModelEntry m : summary.models()) {
            Path predictions = runDir.resolve(Predictions.file(m.id()));
            Path file = runDir.resolve(m.file());
            if (!Files.exists(predictions)) {
                dev.distill.models.network.Network net = PretrainedModels.loadChecked(file, data.test().features(),
                        config.data().classes());
                int[] predicted = Accuracy.predict(net, data.test().features());
                ReportFiles.write(predictions, Predictions.predictionsJson(m.id(), null, predicted));
                double accuracy = Accuracy.of(predicted, data.test().labels());
                out.printf(Locale.ROOT, "  %s: predicted %,d test examples, accuracy %.4f (summary: %.4f)%n", m.id(),
                        predicted.length, accuracy, m.testAccuracy());
            }
            List<LayerEntry> layers = m.layers();
            if (layers == null && config.models().get(m.model()) instanceof ModelConfig.Declared d) {
                layers = d.cost().layers().stream()
                        .map(l -> new LayerEntry(l.index(), l.type(), l.outputShape(), l.params(), l.multiplyAdds()))
                        .toList();
            }
            Long nonzero = m.nonzeroParams() != null ? m.nonzeroParams() : SavedModel.read(file).nonzero();
            models.add(m.withCounts(nonzero, layers));
        }
        return new RunSummary(summary.name(), summary.config(), summary.started(), summary.finished(),
                summary.dataset(), summary.seeds(), dev.distill.runner.report.KdVerdict.attach(models),
                summary.provenance(), summary.logitsSeconds(), summary.sweeps(), summary.assistants());
    }
}
