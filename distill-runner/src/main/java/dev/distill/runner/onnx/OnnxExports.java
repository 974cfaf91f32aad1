package dev.distill.runner.onnx;

import dev.distill.core.modelfile.ModelFile;

import dev.distill.core.modelfile.ModelReader;

import dev.distill.core.DistillException;
import dev.distill.core.io.ModelFiles;
import dev.distill.models.network.Network;
import dev.distill.onnx.OnnxAgreement;
import dev.distill.onnx.OnnxExporter;
import dev.distill.onnx.OnnxTeacher;
import dev.distill.onnx.PackedOnnxExporter;
import dev.distill.runner.pipeline.PretrainedModels;
import dev.distill.runtime.Model;
import dev.distill.runtime.ModelDescription;
import dev.distill.runner.config.DataConfig;
import dev.distill.runner.config.DataSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
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

    /**
     * A model to export: a DL4J network ({@code packed} null), or a packed file as distill-runtime reads
     * it ({@code net} null), exported from the runtime's ops.
     */
    public record Source(Network net, Model packed) {

        /** What the export is compared with: "DL4J" or "distill-runtime float32". */
        public String reference() {
            return packed != null ? "distill-runtime float32" : "DL4J";
        }

        /**
         * Checks that the model takes {@code features}' examples and gives {@code classes} outputs; one
         * line naming {@code file} if not.
         */
        public void checkFits(Path file, INDArray features, int classes) {
            if (net != null) {
                PretrainedModels.checkFits(file, net, features, classes);
                return;
            }
            if (packed.inputSize() != features.columns()) {
                throw new DistillException(file + ": the model takes " + packed.inputSize() + " values per example ("
                        + shape(packed.inputShape()) + ") but the data has " + features.columns());
            }
            if (packed.outputSize() != classes) {
                throw new DistillException(file + ": the model outputs " + packed.outputSize()
                        + " values per example but the data has " + classes + " classes");
            }
        }
    }

    /**
     * A model file: DL4J (sequential or graph zip, or the sparse format) or a packed file (format 3, as
     * distill-runtime loads it), or one line naming the file.
     */
    public static Source read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new DistillException(file + ": model file not found");
        }
        ModelFile read = ModelReader.read(file);
        if (read instanceof ModelFile.Dl4j d) {
            return new Source(d.network(), null);
        }
        if (read instanceof ModelFile.Packed p) {
            return new Source(null, p.model());
        }
        throw new DistillException(file + ": already an ONNX model");
    }

    /**
     * What the model's input expects, written into the ONNX file: the factor raw values were
     * multiplied by ({@link OnnxExporter#META_SCALE}), the per-feature normalization after it if any,
     * and the flat layout ({@link OnnxExporter#META_INPUT}).
     */
    public static Map<String, String> metadata(DataConfig data, dev.distill.runtime.Preprocessing preprocessing) {
        Map<String, String> m = new LinkedHashMap<>();
        // per-feature normalization (data.normalize) is written beside the scale, as the packed export writes it
        m.putAll(dev.distill.onnx.PackedOnnxExporter.featureMetadata(preprocessing));
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
     * Exports a model to {@code file} and checks the file in ONNX Runtime on {@code test} (when not null)
     * against DL4J, or for a packed model against distill-runtime's float path (what the export computes:
     * int8 weights dequantized, activations float); the file is written only if every example gets the
     * same class. A packed model's metadata is its own preprocessing, layout and class names
     * ({@link PackedOnnxExporter#metadata}), over {@code metadata} (the data's).
     */
    public static OnnxAgreement export(Source source, Map<String, String> metadata, Path file, INDArray test) {
        byte[] onnx;
        if (source.packed() != null) {
            ModelDescription d = source.packed().description();
            Map<String, String> m = new LinkedHashMap<>(metadata);
            m.putAll(PackedOnnxExporter.metadata(d));
            onnx = PackedOnnxExporter.export(d, m).toByteArray();
        } else {
            onnx = OnnxExporter.export(source.net(), metadata).toByteArray();
        }
        OnnxAgreement agreement = null;
        if (test != null) {
            int threads = OnnxTeacher.threadsFromEnvironment();
            agreement = source.packed() != null ? OnnxAgreement.measure(source.packed(), onnx, test, threads)
                    : OnnxAgreement.measure(source.net(), onnx, test, threads);
            if (agreement.sameClass() < 1) {
                throw new IllegalStateException(String.format(Locale.ROOT, "%s: the ONNX export disagrees with %s on "
                        + "%.2f%% of the test examples (max |probability difference| %.2g); not written", file,
                        source.reference(), 100 * (1 - agreement.sameClass()), agreement.maxProbabilityDifference()));
            }
        }
        ModelFiles.writeAtomically(file, tmp -> Files.write(tmp, onnx));
        return agreement;
    }

    private static String shape(int[] s) {
        return s[1] == 1 && s[2] == 1 ? "flat" : s[0] + "x" + s[1] + "x" + s[2];
    }
}
