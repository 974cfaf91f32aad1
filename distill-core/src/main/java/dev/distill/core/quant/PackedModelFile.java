package dev.distill.core.quant;

import dev.distill.core.DistillException;
import dev.distill.core.io.ModelFiles;
import dev.distill.runtime.Model;
import dev.distill.runtime.ModelDescription;
import dev.distill.runtime.ModelFormatException;
import dev.distill.runtime.PackedFormat;
import dev.distill.runtime.Preprocessing;
import dev.distill.runtime.QuantizedTensor;
import dev.distill.runtime.TensorLayout;
import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Our packed model file (the format is distill-runtime's {@link PackedFormat}, version 3): a DL4J network
 * written in the runtime's own terms ({@link Dl4jToRuntime}), with its quantized tensors at their real
 * bit width, the preprocessing of the data's raw values and the class names; read back as a runtime
 * {@link Model}, which needs nothing of DL4J.
 */
public final class PackedModelFile {

    private PackedModelFile() {
    }

    /** Whether a file starts with the packed format's magic. */
    public static boolean isPackedFile(Path file) {
        return ModelFiles.startsWith(file, "DSTLPACK".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }

    /**
     * Writes {@code net} atomically with the given quantized tensors (by key; its other parameters float32)
     * and calibrated activation ranges (empty: no int8 path).
     *
     * @throws IllegalArgumentException naming the first layer the runtime cannot run
     */
    public static List<TensorLayout> write(MultiLayerNetwork net, List<QuantizedTensor> quantized,
            List<ActivationCalibration.Range> activations, boolean huffman, Preprocessing preprocessing,
            List<String> classNames, Path file) {
        return write(Dl4jToRuntime.describe(net, quantized, activations, preprocessing, classNames), huffman, file);
    }

    /** Writes a DL4J graph (the zoo's students) atomically, float32 ({@link Dl4jToRuntime#describe(dev.distill.models.network.Network.Graph, Preprocessing, List)}). */
    public static List<TensorLayout> write(dev.distill.models.network.Network.Graph graph, Preprocessing preprocessing,
            List<String> classNames, Path file) {
        return write(graph, List.of(), false, preprocessing, classNames, file);
    }

    /** Writes a DL4J graph atomically with the given quantized tensors (by {@code <vertex>_<param>}; the rest float32). */
    public static List<TensorLayout> write(dev.distill.models.network.Network.Graph graph, List<QuantizedTensor> quantized,
            boolean huffman, Preprocessing preprocessing, List<String> classNames, Path file) {
        return write(Dl4jToRuntime.describe(graph, quantized, preprocessing, classNames), huffman, file);
    }

    private static List<TensorLayout> write(ModelDescription description, boolean huffman, Path file) {
        PackedFormat.Written written = PackedFormat.write(description, huffman);
        byte[] bytes = written.bytes();
        ModelFiles.writeAtomically(file, tmp -> {
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp))) {
                out.write(bytes);
            }
        });
        return written.layouts();
    }

    /** Reads a packed file into the runtime; any fault is one {@link DistillException} line naming the file. */
    public static Model read(Path file) {
        try {
            return Model.load(file);
        } catch (ModelFormatException e) {
            throw new DistillException(e.getMessage(), e);
        }
    }

    /** A parameter's values as float32, c order. */
    public static float[] values(INDArray a) {
        return a.castTo(DataType.FLOAT).dup('c').data().asFloat();
    }
}
