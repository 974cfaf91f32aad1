package dev.distill.runner.stages;

import dev.distill.onnx.OnnxAgreement;
import dev.distill.runner.config.ExperimentConfig;
import dev.distill.runner.config.StageConfig;
import dev.distill.runner.onnx.OnnxExports;
import dev.distill.runner.pipeline.ExperimentData;
import dev.distill.runner.pipeline.RunDirectory;
import dev.distill.runner.report.RunSummary.ModelEntry;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code {type: export, format: onnx}} stage: after training and every other stage, each final
 * model of the run (a chain's final student, or a stage's output: pruned .sparse, low-rank .zip,
 * quantized .packed, exported from distill-runtime's ops: INT8 weights as int8 initializers behind
 * DequantizeLinear, k-means and binary as their dequantized floats) is written as {@code models/<id>.onnx}
 * and compared in ONNX Runtime on the test split with DL4J, or for a packed file with distill-runtime's
 * float path.
 */
public final class ExportStage {

    private ExportStage() {
    }

    public static void run(ExperimentConfig config, ExperimentData data, RunDirectory run, PrintStream out,
            List<ModelEntry> entries) {
        Map<String, String> metadata = OnnxExports.metadata(config.data(), data.preprocessing());
        for (StageConfig stage : config.stages()) {
            if (!(stage instanceof StageConfig.Export export)) {
                continue;
            }
            for (ModelEntry e : entries) {
                if (!exportable(e) || (!export.models().isEmpty() && !export.models().contains(e.model()))) {
                    continue;
                }
                Path source = run.root().resolve(e.file());
                Path target = run.model(e.id() + "." + export.format());
                OnnxExports.Source model = OnnxExports.read(source);
                OnnxAgreement a = OnnxExports.export(model, metadata, target, data.test().features());
                out.printf(Locale.ROOT, "%s: exported to %s (%,d bytes); ONNX Runtime vs %s on %,d test examples: "
                        + "same class %.2f%%, max |probability difference| %.2g%n", e.id(),
                        run.root().relativize(target), StageRunner.size(target), model.reference(), a.examples(),
                        100 * a.sameClass(),
                        a.maxProbabilityDifference());
            }
        }
    }

    /** The run's final models: students and stage outputs (zip, sparse and packed files). */
    private static boolean exportable(ModelEntry e) {
        boolean finalModel = "student".equals(e.role()) || "stage".equals(e.role());
        return finalModel && e.file() != null
                && (e.file().endsWith(".zip") || e.file().endsWith(".sparse") || e.file().endsWith(".packed"));
    }
}
