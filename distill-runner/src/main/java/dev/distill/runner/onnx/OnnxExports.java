package dev.distill.runner.onnx;

import dev.distill.core.DistillException;
import dev.distill.core.io.ModelFiles;
import dev.distill.core.prune.SparseModelFile;
import dev.distill.core.quant.PackedModelFile;
import dev.distill.runtime.QuantizedTensor;
import dev.distill.models.build.Network;
import dev.distill.onnx.OnnxAgreement;
import dev.distill.onnx.OnnxExporter;
import dev.distill.onnx.OnnxTeacher;
import dev.distill.runner.config.DataConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The runner's side of ONNX export, shared by {@code distill export} and the export stage: reading a
 * model file, the preprocessing metadata a config's data implies, and the check in ONNX Runtime.
 */
public final class OnnxExports {

    private OnnxExports() {
    }

    /** A model to export: its network, and for a packed file what the file stores (else empty). */
    public record Source(Network net, List<QuantizedTensor> quantized) {
    }

    /**
     * A DL4J model file (sequential or graph zip, or the sparse format), or one line naming the file. A
     * packed file is distill-runtime's format, without a DL4J network to export: refused.
     */
    public static Source read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new DistillException(file + ": model file not found");
        }
        if (PackedModelFile.isPackedFile(file)) {
            throw new DistillException(file + ": a packed file (distill-runtime's format) has no DL4J network to "
                    + "export; export the .zip or .sparse it was made from (--int8 for int8 weights)");
        }
        try {
            return new Source(ModelFiles.load(file, SparseModelFile::load), List.of());
        } catch (IOException | RuntimeException e) {
            throw new DistillException(file + ": not a DL4J model file (" + firstLine(e) + ")", e);
        }
    }

    /**
     * What the model's input expects, written into the ONNX file: the factor raw values were
     * multiplied by ({@link OnnxExporter#META_SCALE}) and the flat layout ({@link OnnxExporter#META_INPUT}).
     */
    public static Map<String, String> metadata(DataConfig data) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(OnnxExporter.META_SCALE, Double.toString(data.source().scale()));
        m.put(OnnxExporter.META_INPUT, data.input().image()
                ? String.format(Locale.ROOT, "image %dx%dx%d (channels x height x width), flattened channels first",
                        data.input().channels(), data.input().height(), data.input().width())
                : "flat " + data.input().size());
        m.put("distill.dataset", data.source().name());
        return m;
    }

    /**
     * Exports a model to {@code file} and checks the file in ONNX Runtime against DL4J (for a packed
     * model, its dequantized network) on {@code test} (when not null); the file is written only if every
     * example gets the same class.
     */
    public static OnnxAgreement export(Source source, Map<String, String> metadata, Path file, INDArray test) {
        Network net = source.net();
        byte[] onnx = OnnxExporter.export(net, metadata, source.quantized()).toByteArray();
        OnnxAgreement agreement = null;
        if (test != null) {
            agreement = OnnxAgreement.measure(net, onnx, test, OnnxTeacher.threadsFromEnvironment());
            if (agreement.sameClass() < 1) {
                throw new IllegalStateException(String.format(Locale.ROOT, "%s: the ONNX export disagrees with DL4J on "
                        + "%.2f%% of the test examples (max |probability difference| %.2g); not written", file,
                        100 * (1 - agreement.sameClass()), agreement.maxProbabilityDifference()));
            }
        }
        ModelFiles.writeAtomically(file, tmp -> Files.write(tmp, onnx));
        return agreement;
    }

    private static String firstLine(Exception e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.lines().findFirst().orElse(m);
    }
}
