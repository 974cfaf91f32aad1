package dev.distill.core.prune;

import dev.distill.core.DistillException;
import dev.distill.core.io.ModelFileCheck;
import dev.distill.core.io.ModelFiles;
import dev.distill.core.io.TensorShape;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;
import dev.distill.models.network.ConvBackend;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Our model file for pruned networks: the architecture (DL4J's configuration JSON, output
 * layer softmax with cross-entropy as {@link ModelFiles} ships it) and every parameter tensor stored
 * dense, CSR or CSC, whichever is smallest, with the narrowest unsigned index type that fits (1, 2
 * or 4 bytes). {@link #read} rebuilds a runnable network. Values stay float32: the file is exactly
 * the network, only without its zeros.
 *
 * <p>Layout (big-endian): magic {@code DSTLSPRS}, version (u16), the body's length (u32), the body
 * deflated, CRC-32 of all bytes before it. The body: configuration length (u32) and its UTF-8 JSON,
 * tensor count (u32), then per tensor: key (u8 length + UTF-8, e.g. {@code 0_W}),
 * rank (u8), shape (u32 each), encoding (u8: 0 dense, 1 CSR, 2 CSC); dense: the values; sparse: the
 * tensor seen as a matrix of {@code shape[0]} rows (c order, the remaining dimensions flattened),
 * non-zero count (u32), pointer width and index width (u8 each), the {@code rows+1} (CSR) or
 * {@code cols+1} (CSC) pointers, the indices, the values (float32). Deflating the body squeezes the
 * indices and the configuration; a DL4J zip deflates its zeros, so without it the zip of a pruned
 * network would be about as small.
 */
public final class SparseModelFile {

    static final byte[] MAGIC = "DSTLSPRS".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;

    /** How one tensor is stored. */
    public enum Encoding { DENSE, CSR, CSC }

    /**
     * What one tensor costs: as dense float32 and as stored (values, indices and pointers, without
     * the few bytes of its header).
     */
    public record TensorLayout(String key, long count, long nonzero, Encoding encoding, int indexBytes,
            long denseBytes, long storedBytes) {
    }

    private SparseModelFile() {
    }

    /** Whether a file starts with this format's magic (a DL4J zip does not). */
    public static boolean isSparseFile(Path file) {
        return ModelFiles.startsWith(file, MAGIC);
    }

    /** The encoding each tensor of {@code net} would get, without writing anything. */
    public static List<TensorLayout> layout(MultiLayerNetwork net) {
        List<TensorLayout> layouts = new ArrayList<>();
        for (Map.Entry<String, INDArray> e : net.paramTable().entrySet()) {
            layouts.add(new Tensor(e.getKey(), e.getValue()).layout());
        }
        return layouts;
    }

    /** Writes {@code net} atomically and returns each tensor's layout. */
    public static List<TensorLayout> write(MultiLayerNetwork net, Path file) {
        byte[] config = ModelFiles.withCrossEntropyOutput(net).getLayerWiseConfigurations().toJson()
                .getBytes(StandardCharsets.UTF_8);
        List<TensorLayout> layouts = new ArrayList<>();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        try {
            DataOutputStream out = new DataOutputStream(body);
            out.writeInt(config.length);
            out.write(config);
            out.writeInt(net.paramTable().size());
            for (Map.Entry<String, INDArray> e : net.paramTable().entrySet()) {
                layouts.add(new Tensor(e.getKey(), e.getValue()).write(out));
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        byte[] deflated = deflate(body.toByteArray());
        ModelFiles.writeAtomically(file, tmp -> {
            try (OutputStream raw = new BufferedOutputStream(Files.newOutputStream(tmp))) {
                CRC32 crc = new CRC32();
                DataOutputStream out = new DataOutputStream(new java.util.zip.CheckedOutputStream(raw, crc));
                out.write(MAGIC);
                out.writeShort(VERSION);
                out.writeInt(body.size());
                out.write(deflated);
                out.flush();
                new DataOutputStream(raw).writeInt((int) crc.getValue());
            }
        });
        return layouts;
    }

    /** Reads a file written by {@link #write} into a new, initialised network. */
    public static MultiLayerNetwork read(Path file) {
        if (ModelFileCheck.regularFile(file) > Integer.MAX_VALUE - 16) {
            throw new DistillException(file + ": " + ModelFileCheck.regularFile(file)
                    + " bytes, larger than any sparse model file can be (2 GB)");
        }
        byte[] bytes = ModelFiles.readAllBytes(file);
        if (bytes.length < MAGIC.length + 2 + 4 + 4 || !Arrays.equals(Arrays.copyOf(bytes, MAGIC.length), MAGIC)) {
            throw new DistillException(file + ": not a sparse model file (no DSTLSPRS header)");
        }
        CRC32 crc = new CRC32();
        crc.update(bytes, 0, bytes.length - 4);
        int stored = java.nio.ByteBuffer.wrap(bytes, bytes.length - 4, 4).getInt();
        if ((int) crc.getValue() != stored) {
            throw new DistillException(file + ": checksum mismatch: the file is damaged or truncated");
        }
        try {
            DataInputStream header = new DataInputStream(new ByteArrayInputStream(bytes, 0, bytes.length - 4));
            header.skipNBytes(MAGIC.length);
            int version = header.readUnsignedShort();
            if (version != VERSION) {
                throw new DistillException(file + ": sparse model format version " + version + ", this reader knows "
                        + VERSION);
            }
            int bodyLength = header.readInt();
            byte[] deflated = header.readAllBytes();
            // deflate packs at most 1032 bytes into one: a larger declared body is a damaged header
            if (bodyLength < 0 || bodyLength > 1032L * deflated.length + 64) {
                throw new DistillException(file + ": damaged sparse model file: declares a body of " + bodyLength
                        + " bytes, its " + deflated.length + " deflated bytes can hold at most " + (1032L
                        * deflated.length + 64));
            }
            byte[] body = inflate(deflated, bodyLength);
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(body));
            String json = new String(in.readNBytes(declared(in, in.readInt(), 1, "configuration")),
                    StandardCharsets.UTF_8);
            MultiLayerConfiguration conf;
            try {
                conf = MultiLayerConfiguration.fromJson(json);
            } catch (RuntimeException | StackOverflowError e) {
                throw new IOException("its configuration is not a DL4J network configuration");
            }
            ModelFileCheck.parameters(file, ModelFileCheck.parameters(conf));
            MultiLayerNetwork net = new MultiLayerNetwork(conf);
            net.init();
            int tensors = in.readInt();
            if (tensors != net.paramTable().size()) {
                throw new DistillException(file + ": " + tensors + " tensors for a network with "
                        + net.paramTable().size());
            }
            for (int i = 0; i < tensors; i++) {
                String key = new String(in.readNBytes(declared(in, in.readUnsignedByte(), 1, "tensor name")),
                        StandardCharsets.UTF_8);
                INDArray target = net.paramTable().get(key);
                if (target == null) {
                    throw new DistillException(file + ": tensor " + printable(key) + " is not a parameter of its network");
                }
                long[] shape = TensorShape.read(in, key);
                if (!Arrays.equals(shape, target.shape())) {
                    throw new DistillException(file + ": tensor " + key + " has shape " + Arrays.toString(shape)
                            + ", its network expects " + Arrays.toString(target.shape()));
                }
                net.setParam(key, Tensor.read(in, shape));
            }
            // a network built from a configuration lacks the helpers NetworkFactory puts into conv layers
            ConvBackend.DEFAULT.apply(net);
            return net;
        } catch (java.io.EOFException e) {
            throw new DistillException(file + ": damaged sparse model file: its body ends early", e);
        } catch (IOException | DataFormatException | RuntimeException | StackOverflowError e) {
            if (e instanceof DistillException d) {
                throw d;
            }
            throw new DistillException(file + ": damaged sparse model file: " + (e.getMessage() == null
                    ? e.getClass().getSimpleName() : e.getMessage().lines().findFirst().orElse("")), e);
        }
    }

    /**
     * A count read from the file, checked against the bytes left: {@code count} items of at least
     * {@code bytesEach} bytes must fit in what remains of the body.
     */
    static int declared(DataInputStream in, long count, int bytesEach, String what) throws IOException {
        if (count < 0 || count * bytesEach > in.available()) {
            throw new IOException("declares " + count + " " + what + " bytes/values, " + in.available()
                    + " bytes are left");
        }
        return (int) count;
    }

    private static String printable(String s) {
        return "\"" + s.replaceAll("\\p{Cntrl}", "?") + "\"";
    }

    /** A tensor as a {@code rows × cols} row-major matrix of float values. */
    private static final class Tensor {
        final String key;
        final long[] shape;
        final float[] values;
        final int rows;
        final int cols;
        final int nonzero;

        Tensor(String key, INDArray array) {
            this.key = key;
            this.shape = array.shape();
            this.values = PruningMasks.values(array);
            this.rows = shape.length >= 2 ? (int) shape[0] : 1;
            this.cols = rows == 0 ? 0 : values.length / rows;
            int nz = 0;
            for (float v : values) {
                nz += v != 0 ? 1 : 0;
            }
            this.nonzero = nz;
        }

        long sparseBytes(int pointers, int indexRange) {
            return (long) width(nonzero) * pointers + (long) width(indexRange - 1) * nonzero + 4L * nonzero;
        }

        TensorLayout layout() {
            long dense = 4L * values.length;
            long csr = sparseBytes(rows + 1, cols);
            long csc = sparseBytes(cols + 1, rows);
            if (dense <= csr && dense <= csc) {
                return new TensorLayout(key, values.length, nonzero, Encoding.DENSE, 0, dense, dense);
            }
            return csr <= csc
                    ? new TensorLayout(key, values.length, nonzero, Encoding.CSR, width(cols - 1), dense, csr)
                    : new TensorLayout(key, values.length, nonzero, Encoding.CSC, width(rows - 1), dense, csc);
        }

        TensorLayout write(DataOutputStream out) throws IOException {
            TensorLayout layout = layout();
            byte[] name = key.getBytes(StandardCharsets.UTF_8);
            out.writeByte(name.length);
            out.write(name);
            TensorShape.write(out, shape);
            out.writeByte(layout.encoding().ordinal());
            if (layout.encoding() == Encoding.DENSE) {
                for (float v : values) {
                    out.writeFloat(v);
                }
                return layout;
            }
            boolean csr = layout.encoding() == Encoding.CSR;
            int outer = csr ? rows : cols;
            int inner = csr ? cols : rows;
            int pointerWidth = width(nonzero);
            int indexWidth = width(inner - 1);
            out.writeInt(nonzero);
            out.writeByte(pointerWidth);
            out.writeByte(indexWidth);
            ByteArrayOutputStream indices = new ByteArrayOutputStream();
            ByteArrayOutputStream nonzeros = new ByteArrayOutputStream();
            DataOutputStream idx = new DataOutputStream(indices);
            DataOutputStream val = new DataOutputStream(nonzeros);
            int count = 0;
            writeUnsigned(out, pointerWidth, 0);
            for (int o = 0; o < outer; o++) {
                for (int i = 0; i < inner; i++) {
                    float v = csr ? values[o * cols + i] : values[i * cols + o];
                    if (v != 0) {
                        writeUnsigned(idx, indexWidth, i);
                        val.writeFloat(v);
                        count++;
                    }
                }
                writeUnsigned(out, pointerWidth, count);
            }
            indices.writeTo(out);
            nonzeros.writeTo(out);
            return layout;
        }

        /** The values of a tensor whose shape was read and checked against its network. */
        static INDArray read(DataInputStream in, long[] shape) throws IOException {
            int n = TensorShape.elements(shape);
            int encoding = in.readUnsignedByte();
            if (encoding == Encoding.DENSE.ordinal()) {
                float[] values = new float[declared(in, n, 4, "dense float")];
                for (int i = 0; i < n; i++) {
                    values[i] = in.readFloat();
                }
                return PruningMasks.array(values, shape);
            }
            if (encoding != Encoding.CSR.ordinal() && encoding != Encoding.CSC.ordinal()) {
                throw new IOException("unknown tensor encoding " + encoding + " (0 dense, 1 CSR, 2 CSC)");
            }
            int rows = shape.length >= 2 ? (int) shape[0] : 1;
            int cols = rows == 0 ? 0 : (int) (n / rows);
            boolean csr = encoding == Encoding.CSR.ordinal();
            int outer = csr ? rows : cols;
            int inner = csr ? cols : rows;
            long nonzero = in.readInt() & 0xFFFFFFFFL;
            int pointerWidth = in.readUnsignedByte();
            int indexWidth = in.readUnsignedByte();
            if (!List.of(1, 2, 4).contains(pointerWidth) || !List.of(1, 2, 4).contains(indexWidth)) {
                throw new IOException("pointer/index widths " + pointerWidth + "/" + indexWidth + " (1, 2 or 4)");
            }
            if (nonzero > n) {
                throw new IOException("declares " + nonzero + " non-zero values in a tensor of " + n);
            }
            int[] pointers = new int[declared(in, outer + 1L, pointerWidth, "pointer")];
            for (int o = 0; o <= outer; o++) {
                pointers[o] = readUnsigned(in, pointerWidth);
                if (pointers[o] < (o == 0 ? 0 : pointers[o - 1]) || pointers[o] > nonzero) {
                    throw new IOException("pointer " + o + " is " + pointers[o] + ": pointers must rise from 0 to "
                            + nonzero);
                }
            }
            if (pointers[0] != 0 || pointers[outer] != nonzero) {
                throw new IOException("pointers do not span the " + nonzero + " non-zero values");
            }
            int[] indices = new int[declared(in, nonzero, indexWidth + 4, "index and value")];
            for (int k = 0; k < nonzero; k++) {
                indices[k] = readUnsigned(in, indexWidth);
                if (indices[k] < 0 || indices[k] >= inner) {
                    throw new IOException("index " + indices[k] + " outside " + inner);
                }
            }
            float[] values = new float[n];
            for (int o = 0; o < outer; o++) {
                for (int k = pointers[o]; k < pointers[o + 1]; k++) {
                    float v = in.readFloat();
                    values[csr ? o * cols + indices[k] : indices[k] * cols + o] = v;
                }
            }
            return PruningMasks.array(values, shape);
        }
    }

    /** Bytes of the narrowest unsigned type holding {@code max}: 1, 2 or 4. */
    static int width(long max) {
        return max <= 0xFF ? 1 : max <= 0xFFFF ? 2 : 4;
    }

    private static void writeUnsigned(DataOutputStream out, int width, int value) throws IOException {
        switch (width) {
            case 1 -> out.writeByte(value);
            case 2 -> out.writeShort(value);
            default -> out.writeInt(value);
        }
    }

    private static int readUnsigned(DataInputStream in, int width) throws IOException {
        return switch (width) {
            case 1 -> in.readUnsignedByte();
            case 2 -> in.readUnsignedShort();
            case 4 -> in.readInt();
            default -> throw new IOException("index width " + width);
        };
    }

    private static byte[] deflate(byte[] data) {
        Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION);
        deflater.setInput(data);
        deflater.finish();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        while (!deflater.finished()) {
            out.write(buffer, 0, deflater.deflate(buffer));
        }
        deflater.end();
        return out.toByteArray();
    }

    /**
     * Inflates the body, growing the buffer with what actually comes out (never allocating the
     * declared length up front), and refuses a body longer or shorter than declared.
     */
    private static byte[] inflate(byte[] data, int length) throws DataFormatException {
        Inflater inflater = new Inflater();
        try {
            inflater.setInput(data);
            ByteArrayOutputStream out = new ByteArrayOutputStream(Math.min(length, 1 << 20));
            byte[] buffer = new byte[8192];
            int idle = 0;
            while (!inflater.finished()) {
                int n = inflater.inflate(buffer);
                // no output and none to come: the stream is cut short (bounded, so a damaged stream never spins)
                if (n == 0 && (inflater.needsInput() || inflater.needsDictionary() || ++idle > 64)) {
                    break;
                }
                out.write(buffer, 0, n);
                if (out.size() > length) {
                    throw new DataFormatException("the body inflates to more than the " + length + " bytes its header says");
                }
            }
            if (out.size() != length || !inflater.finished()) {
                throw new DataFormatException("the body inflates to " + out.size() + " bytes, the header says " + length);
            }
            return out.toByteArray();
        } finally {
            inflater.end();
        }
    }
}
