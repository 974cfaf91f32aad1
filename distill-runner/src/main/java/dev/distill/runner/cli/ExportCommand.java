package dev.distill.runner.cli;

import dev.distill.core.DistillException;
import dev.distill.onnx.OnnxAgreement;
import dev.distill.runner.config.ExperimentConfig;
import dev.distill.runner.onnx.OnnxExports;
import dev.distill.runner.pipeline.ExperimentData;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "export", description = "Write a saved DL4J model in another format (onnx).")
final class ExportCommand implements Callable<Integer> {

    /** Formats a model can be exported to. */
    enum Format {
        onnx
    }

    @Parameters(paramLabel = "MODEL", description = "A DL4J model file (e.g. runs/<run>/models/student.zip) or a "
            + "packed file (INT8 weights as int8 initializers behind DequantizeLinear).")
    Path model;

    @Option(names = "--format", required = true, paramLabel = "FORMAT", description = "Target format: ${COMPLETION-CANDIDATES}.")
    Format format;

    @Option(names = "--out", paramLabel = "FILE", description = "Where to write (default: MODEL with the format's extension).")
    Path out;

    @Option(names = "--data", paramLabel = "CONFIG",
            description = "A config whose data the model was trained on: checks the model against it, records the "
                    + "input scale in the file and compares the export with DL4J on its test split.")
    Path config;

    @Mixin
    ConfigOptions options;

    @Override
    public Integer call() {
        PrintStream stdout = DistillCli.Streams.out;
        Path target = out != null ? out : sibling(model, ".onnx");
        if (target.toAbsolutePath().getParent() != null && !Files.isDirectory(target.toAbsolutePath().getParent())) {
            throw new DistillException(target + ": its directory does not exist");
        }
        OnnxAgreement agreement;
        if (config != null) {
            ExperimentConfig experiment = options.load(config);
            ExperimentData data = ExperimentData.load(experiment.data(), experiment.seed());
            OnnxExports.Source source = OnnxExports.read(model);
            dev.distill.runner.pipeline.PretrainedModels.checkFits(model, source.net(), data.test().features(), experiment.data().classes());
            agreement = OnnxExports.export(source, OnnxExports.metadata(experiment.data()), target,
                    data.test().features());
        } else {
            agreement = OnnxExports.export(OnnxExports.read(model), Map.of(), target, null);
        }
        stdout.printf(Locale.ROOT, "%s: written (%,d bytes) from %s%s%n", target, size(target), model,
                agreement == null ? "; not compared with DL4J (give --data CONFIG to check it on the test split)"
                        : String.format(Locale.ROOT, "; ONNX Runtime vs DL4J on %,d test examples: same class %.2f%%, "
                                + "max |probability difference| %.2g", agreement.examples(),
                                100 * agreement.sameClass(), agreement.maxProbabilityDifference()));
        return 0;
    }

    private static Path sibling(Path file, String extension) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return file.resolveSibling((dot > 0 ? name.substring(0, dot) : name) + extension);
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (java.io.IOException e) {
            return -1;
        }
    }
}
