package dev.distill.core.modelfile;

import dev.distill.core.DistillException;
import dev.distill.core.io.ModelFileCheck;
import dev.distill.core.io.ModelFiles;
import dev.distill.core.prune.SparseModelFile;
import dev.distill.core.quant.PackedModelFile;
import dev.distill.models.network.Network;
import java.io.IOException;
import java.nio.file.Path;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * Reads a model file of any format distill writes or takes ({@link ModelFormat}): the format from the
 * file's first bytes, the file checked whole before any library allocates what it declares. Every
 * fault (missing, a directory, empty, truncated, damaged, of no known format, of a format the caller
 * cannot use) is one {@link DistillException} line that starts with the file's path.
 */
public final class ModelReader {

    private static final byte[] ZIP_MAGIC = {'P', 'K'};

    private ModelReader() {
    }

    /** The file's format, after checking it is a readable, non-empty regular file. */
    public static ModelFormat format(Path file) {
        ModelFileCheck.regularFile(file);
        if (ModelFiles.startsWith(file, ZIP_MAGIC)) {
            return ModelFormat.ZIP;
        }
        if (SparseModelFile.isSparseFile(file)) {
            return ModelFormat.SPARSE;
        }
        if (PackedModelFile.isPackedFile(file)) {
            return ModelFormat.PACKED;
        }
        if (file.getFileName().toString().endsWith(".onnx")) {
            return ModelFormat.ONNX;
        }
        throw new DistillException(file + ": not a model file: it starts with " + ModelFileCheck.head(file)
                + "; expected a DL4J zip (PK), a sparse (DSTLSPRS) or a packed (DSTLPACK) model file");
    }

    /** The file, whatever its format. */
    public static ModelFile read(Path file) {
        ModelFormat format = format(file);
        return switch (format) {
            case ZIP, SPARSE -> new ModelFile.Dl4j(file, format, network(file));
            case PACKED -> new ModelFile.Packed(file, PackedModelFile.read(file));
            case ONNX -> new ModelFile.Onnx(file, ModelFiles.readAllBytes(file));
        };
    }

    /**
     * A DL4J network (a zip of either kind, or a sparse file), with the conv backend's helpers in its
     * layers as {@code NetworkFactory} puts them; a packed or ONNX file is refused, saying what runs it.
     */
    public static Network network(Path file) {
        ModelFormat format = format(file);
        Network net = switch (format) {
            case SPARSE -> Network.of(SparseModelFile.read(file));
            case ZIP -> zip(file);
            case PACKED -> throw new DistillException(file + ": a packed model runs on distill-runtime, not DL4J"
                    + " (./distill evaluate and bench run it; other commands need the .zip or .sparse it was made from)");
            case ONNX -> throw new DistillException(file + ": an ONNX model runs in ONNX Runtime, not DL4J (a config"
                    + " loads it as a teacher with onnx:; other commands need a .zip or .sparse model)");
        };
        // restoring builds fresh layers, without the oneDNN helpers NetworkFactory puts in
        net.applyConvBackend();
        return net;
    }

    /** As {@link #network}, refusing a graph: for the tools that handle sequential (layers:) models only. */
    public static MultiLayerNetwork sequential(Path file) {
        if (network(file) instanceof Network.Sequential s) {
            return s.net();
        }
        throw new DistillException(file + ": holds a graph model; this command takes sequential (layers:) models only");
    }

    /** A packed file in distill-runtime; any other format is refused, saying what it is. */
    public static dev.distill.runtime.Model packed(Path file) {
        ModelFormat format = format(file);
        if (format != ModelFormat.PACKED) {
            throw new DistillException(file + ": a " + format.name().toLowerCase(java.util.Locale.ROOT)
                    + " model file, not a packed one (DSTLPACK): write one with ./distill export");
        }
        return PackedModelFile.read(file);
    }

    private static Network zip(Path file) {
        // checked whole first: DL4J allocates whatever the file declares
        ModelFileCheck.zip(file);
        try {
            return Network.restore(ModelFiles.readAllBytes(file), false);
        } catch (IOException | RuntimeException e) {
            throw new DistillException(file + ": not a DL4J model file (" + firstLine(e) + ")", e);
        }
    }

    private static String firstLine(Exception e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.lines().findFirst().orElse(m);
    }
}
