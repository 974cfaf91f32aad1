package dev.distill.runner.cli;

import dev.distill.core.DistillException;
import dev.distill.core.eval.Accuracy;
import dev.distill.core.quant.PackedModelFile;
import dev.distill.core.quant.Quantization;
import dev.distill.models.network.Network;
import dev.distill.onnx.OnnxAgreement;
import dev.distill.runner.config.ExperimentConfig;
import dev.distill.runner.onnx.OnnxExports;
import dev.distill.runner.pipeline.ExperimentData;
import dev.distill.runner.pipeline.PretrainedModels;
import dev.distill.runtime.Model;
import dev.distill.runtime.Precision;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "export", mixinStandardHelpOptions = true, description = "Write a trained model for use outside the framework: --format packed (the "
        + "default) is the file distill-runtime runs without DL4J, float32 or with --int8 post-training int8, "
        + "recording the data's preprocessing and class names; --format onnx is an ONNX model for ONNX Runtime and "
        + "other runtimes (from a packed file: int8 weights as int8 codes behind DequantizeLinear, k-means and binary as "
        + "their decoded floats).")
final class ExportCommand implements Callable<Integer> {

    /** Formats a model can be exported to. */
    enum Format {
        packed, onnx
    }

    @Parameters(paramLabel = "MODEL", description = "A model file: DL4J zip (sequential or graph) or sparse "
            + "(runs/<run>/models/...); for --format onnx also a packed file (format 3).")
    Path model;

    // a String, not the enum: picocli answers a bad enum value with the whole usage, not one line
    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "packed",
            description = "Target format: packed or onnx (default ${DEFAULT-VALUE}).")
    String format;

    @Option(names = "--data", paramLabel = "CONFIG",
            description = "The config whose data the model was trained on: needed for packed (preprocessing, class "
                    + "names, calibration); for onnx it checks the model against the data, records the input scale and "
                    + "compares the export with DL4J (a packed file: distill-runtime's float path) on the test split.")
    Path config;

    @Option(names = "--int8", description = "packed: post-training int8 (no fine-tuning) instead of float32.")
    boolean int8;

    @Option(names = "--calibration-batches", paramLabel = "N", defaultValue = "8",
            description = "packed --int8: training batches (of the config's batch size) the activation ranges are measured on.")
    int calibrationBatches;

    @Option(names = "--huffman", description = "packed: Huffman-code the int8 codes where that is smaller.")
    boolean huffman;

    @Option(names = "--out", paramLabel = "FILE",
            description = "Where to write; default MODEL's name with .packed (-int8.packed with --int8) or .onnx.")
    Path out;

    @Mixin
    ConfigOptions options;

    @Override
    public Integer call() {
        Format f;
        try {
            f = Format.valueOf(format);
        } catch (IllegalArgumentException e) {
            throw new DistillException("--format: unknown format '" + format + "' (expected one of: packed, onnx)");
        }
        return f == Format.packed ? exportPacked() : exportOnnx();
    }

    private int exportPacked() {
        PrintStream console = DistillCli.Streams.out;
        if (config == null) {
            throw new DistillException("--data CONFIG is needed for --format packed: the file records the data's "
                    + "preprocessing and class names, and int8 calibrates on its training data");
        }
        if (calibrationBatches < 1) {
            throw new DistillException("--calibration-batches must be at least 1, got " + calibrationBatches);
        }
        ExperimentConfig experiment = options.load(config);
        ExperimentData data = ExperimentData.load(experiment.data(), experiment.seed());
        Network loaded = PretrainedModels.loadChecked(model, data.test().features(), experiment.data().classes());
        Path file = out != null ? out : model.resolveSibling(stem(model) + (int8 ? "-int8" : "") + ".packed");
        if (file.toAbsolutePath().normalize().equals(model.toAbsolutePath().normalize())) {
            throw new DistillException("--out: " + file + " is the model file itself");
        }
        try {
            if (loaded instanceof Network.Graph graph) {
                if (int8) {
                    throw new DistillException(model + ": int8 export of graph models is not supported yet (export"
                            + " it without --int8: float32)");
                }
                PackedModelFile.write(graph, data.preprocessing(),
                        experiment.data().source().classNames(), file);
            } else {
                MultiLayerNetwork net = ((Network.Sequential) loaded).net();
                Quantization.Outcome o = int8 ? Quantization.postTrainingInt8(net, data.train().features(),
                        experiment.data().batchSize(), calibrationBatches) : null;
                PackedModelFile.write(int8 ? o.net() : net, int8 ? o.tensors() : List.of(),
                        int8 ? o.activations() : List.of(), huffman, data.preprocessing(),
                        experiment.data().source().classNames(), file);
            }
        } catch (IllegalArgumentException e) {
            throw new DistillException(model + ": " + e.getMessage(), e);
        }
        // read back as an app would, and checked on the test split against the DL4J model
        Model packed = dev.distill.core.modelfile.ModelReader.packed(file);
        float[][] rows = new float[data.test().size()][];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = data.test().features().getRow(i).toFloatVector();
        }
        int[] dl4j = Accuracy.predict(loaded, data.test().features());
        long bytes;
        try {
            bytes = Files.size(file);
        } catch (java.io.IOException e) {
            throw new DistillException(file + ": cannot read back (" + e.getMessage() + ")", e);
        }
        console.printf(Locale.ROOT, "wrote %s: %,d bytes (%s: %,d), %s, input %s, %s%n", file, bytes, model,
                sizeOf(model), int8 ? "int8 post-training" : "float32", shape(packed.inputShape()),
                packed.preprocessing());
        console.printf(Locale.ROOT, "  DL4J (%s): test accuracy %.4f on %,d %s test examples%n", model.getFileName(),
                Accuracy.of(dl4j, data.test().labels()), rows.length, data.name());
        for (Precision p : Precision.values()) {
            if (!packed.supports(p)) {
                continue;
            }
            Model m = packed.withPrecision(p);
            int[] predicted = new int[rows.length];
            int same = 0;
            for (int i = 0; i < rows.length; i++) {
                predicted[i] = m.classifyPreprocessed(rows[i]);
                same += predicted[i] == dl4j[i] ? 1 : 0;
            }
            console.printf(Locale.ROOT, "  distill-runtime %s: test accuracy %.4f, same class as DL4J on %.2f%%%n",
                    p.name().toLowerCase(Locale.ROOT) + (int8 && p == Precision.FLOAT32 ? " (int8 weights decoded)" : ""),
                    Accuracy.of(predicted, data.test().labels()),
                    100.0 * same / rows.length);
        }
        return 0;
    }

    private int exportOnnx() {
        PrintStream stdout = DistillCli.Streams.out;
        if (int8 || huffman) {
            throw new DistillException((int8 ? "--int8" : "--huffman") + " applies to --format packed; to export an "
                    + "int8 model to ONNX, export its .packed file (its int8 weights become int8 codes behind DequantizeLinear)");
        }
        Path target = out != null ? out : model.resolveSibling(stem(model) + ".onnx");
        if (target.toAbsolutePath().getParent() != null && !Files.isDirectory(target.toAbsolutePath().getParent())) {
            throw new DistillException(target + ": its directory does not exist");
        }
        OnnxExports.Source source = OnnxExports.read(model);
        OnnxAgreement agreement;
        if (config != null) {
            ExperimentConfig experiment = options.load(config);
            ExperimentData data = ExperimentData.load(experiment.data(), experiment.seed());
            source.checkFits(model, data.test().features(), experiment.data().classes());
            agreement = OnnxExports.export(source, OnnxExports.metadata(experiment.data(), data.preprocessing()), target,
                    data.test().features());
        } else {
            agreement = OnnxExports.export(source, Map.of(), target, null);
        }
        stdout.printf(Locale.ROOT, "%s: written (%,d bytes) from %s%s%n", target, sizeOf(target), model,
                agreement == null ? "; not compared with " + source.reference()
                        + " (give --data CONFIG to check it on the test split)"
                        : String.format(Locale.ROOT, "; ONNX Runtime vs %s on %,d test examples: same class %.2f%%, "
                                + "max |probability difference| %.2g", source.reference(), agreement.examples(),
                                100 * agreement.sameClass(), agreement.maxProbabilityDifference()));
        return 0;
    }

    private static String stem(Path file) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }

    private static long sizeOf(Path file) {
        try {
            return Files.size(file);
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    private static String shape(int[] s) {
        return s[1] == 1 && s[2] == 1 ? s[0] + " values" : s[0] + "x" + s[1] + "x" + s[2] + " (channels, height, width)";
    }
}
