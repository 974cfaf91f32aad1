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
import dev.distill.runner.config.DataSource;
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
     * A model file: DL4J (sequential or graph zip, or the sparse format) or a packed file (read
     * back dequantized, with its stored tensors), or one line naming the file.
     */
    public static Source read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new DistillException(file + ": model file not found");
        }
        if (PackedModelFile.isPackedFile(file)) {
            // packed format 3 holds distill-runtime's ops, not a DL4J network: exported from those ops or not at all
            throw new DistillException(file + ": ONNX export of packed files (format 3) is not done yet; export the "
                    + ".zip or .sparse model it was made from");
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
        m.put(OnnxExporter.META_SCALE, Double.toString(scale(data.source())));
        m.put(OnnxExporter.META_INPUT, data.input().image()
                ? String.format(Locale.ROOT, "image %dx%dx%d (channels x height x width), flattened channels first",
                        data.input().channels(), data.input().height(), data.input().width())
                : "flat " + data.input().size());
        m.put("distill.dataset", data.source().name());
        return m;
    }

    /** The factor the data source multiplies raw values by (pixels 0..255 by 1/255, digits 0..16 by 1/16). */
    static double scale(DataSource source) {
        if (source instanceof DataSource.Digits) {
            return 1.0 / 16;
        } else if (source instanceof DataSource.FashionMnist) {
            return 1.0 / 255;
        } else if (source instanceof DataSource.Idx idx) {
            return idx.scale();
        }
        return ((DataSource.Csv) source).scale();
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
