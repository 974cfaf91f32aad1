package dev.distill.core.quant;

import dev.distill.core.DistillException;
import dev.distill.core.io.ModelFiles;
import dev.distill.core.io.TensorShape;
import dev.distill.models.build.ConvBackend;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.InflaterInputStream;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Our packed model file: weights at their real bit width, so an INT8 model is a quarter of the float
 * one and a 4-bit k-means model an eighth, before any entropy coding.
 *
 * <p>Layout (big-endian): magic {@code DSTLPACK}, format version (u16), the file's length in bytes
 * (u32), the architecture (u8 kind: 0 our compact dense JSON, 1 DL4J's configuration JSON deflated; u32
 * length; bytes), the activation ranges of the integer path (u16 count; per range the layer (u16),
 * scale (f32), zero point (i16)), the tensors (u16 count), a CRC-32 of every byte before it. A tensor:
 * key (u8 length, UTF-8), rank (u8), dimensions (u32 each), kind (u8: 0 float32, 1 linear, 2 k-means,
 * 3 binary); float32: the values; otherwise bits (u8), channel axis (i8, −1 per tensor), then linear:
 * symmetric (u8), scales (f32 per channel), zero points (i16 per channel, asymmetric only); k-means:
 * the 2^bits centroids (f32); binary: scales (f32 per channel); then the number of stored values
 * (u32), sparse (u8), if sparse the positions as relative indices (Deep Compression): entries (u32),
 * index bits (u8) and a stream; then the codes as a stream. A stream is coding (u8: 0 fixed width, 1
 * canonical Huffman with its table first), its length (u32) and its bytes. A relative index d below
 * 2^indexBits − 1 means "the next stored value is d + 1 positions on"; d = 2^indexBits − 1 is a filler
 * that moves on that many positions and stores nothing, for gaps the width cannot hold.
 */
public final class PackedModelFile {

    static final byte[] MAGIC = "DSTLPACK".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;
    /** Magic, version, length: what must be there before anything can be checked. */
    private static final int PREAMBLE = MAGIC.length + 2 + 4;

    private static final int ARCH_COMPACT = 0;
    private static final int ARCH_DL4J = 1;
    private static final int CODING_FIXED = 0;
    private static final int CODING_HUFFMAN = 1;

    /** A packed file read back: the runnable (dequantized) network and what the file stores. */
    public record Packed(MultiLayerNetwork net, List<QuantizedTensor> tensors,
            List<ActivationCalibration.Range> activations, boolean compactArchitecture) {

        public Packed {
            tensors = List.copyOf(tensors);
            activations = List.copyOf(activations);
        }
    }

    /**
     * What one tensor costs in the file: its values, how many stored, bits per code, the index width and
     * codings, and its bytes as float32 against as stored (streams and parameters, not its few header bytes).
     */
    public record TensorLayout(String key, String kind, int bits, long values, long stored, int indexBits,
            boolean huffmanIndices, boolean huffmanCodes, long floatBytes, long storedBytes) {
    }

    private PackedModelFile() {
    }

    /** Whether a file starts with this format's magic. */
    public static boolean isPackedFile(Path file) {
        return ModelFiles.startsWith(file, MAGIC);
    }

    /**
     * Writes {@code net} atomically with the given quantized tensors (by key); its other parameters
     * are stored as float32.
     */
    public static List<TensorLayout> write(MultiLayerNetwork net, List<QuantizedTensor> quantized,
            List<ActivationCalibration.Range> activations, boolean huffman, Path file) {
        MultiLayerNetwork shipped = ModelFiles.withCrossEntropyOutput(net);
        Map<String, QuantizedTensor> byKey = new LinkedHashMap<>();
        quantized.forEach(t -> byKey.put(t.key(), t));
        List<TensorLayout> layouts = new ArrayList<>();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            DataOutputStream out = new DataOutputStream(bytes);
            out.write(MAGIC);
            out.writeShort(VERSION);
            out.writeInt(0); // the length, filled in below
            String compact = Architecture.compact(shipped);
            byte[] arch = compact != null ? compact.getBytes(StandardCharsets.UTF_8)
                    : deflate(shipped.getLayerWiseConfigurations().toJson().getBytes(StandardCharsets.UTF_8));
            out.writeByte(compact != null ? ARCH_COMPACT : ARCH_DL4J);
            out.writeInt(arch.length);
            out.write(arch);
            out.writeShort(activations.size());
            for (ActivationCalibration.Range r : activations) {
                out.writeShort(r.layer());
                out.writeFloat(r.scale());
                out.writeShort(r.zeroPoint());
            }
            Map<String, INDArray> params = shipped.paramTable();
            out.writeShort(params.size());
            for (Map.Entry<String, INDArray> e : params.entrySet()) {
                QuantizedTensor t = byKey.get(e.getKey());
                if (t == null) {
                    t = QuantizedTensor.ofFloats(e.getKey(), e.getValue().shape(), values(e.getValue()));
                } else if (!Arrays.equals(t.shape(), e.getValue().shape())) {
                    throw new IllegalArgumentException("tensor " + t.key() + " has shape " + Arrays.toString(t.shape())
                            + ", the network's is " + Arrays.toString(e.getValue().shape()));
                }
                layouts.add(writeTensor(out, t, huffman));
            }
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        byte[] body = bytes.toByteArray();
        ByteBuffer.wrap(body, MAGIC.length + 2, 4).putInt(body.length + 4);
        CRC32 crc = new CRC32();
        crc.update(body);
        ModelFiles.writeAtomically(file, tmp -> {
            try (OutputStream raw = new BufferedOutputStream(Files.newOutputStream(tmp))) {
                raw.write(body);
                new DataOutputStream(raw).writeInt((int) crc.getValue());
            }
        });
        return layouts;
    }

    static float[] values(INDArray a) {
        return a.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).dup('c').data().asFloat();
    }

    private static TensorLayout writeTensor(DataOutputStream out, QuantizedTensor t, boolean huffman)
            throws IOException {
        int start = out.size();
        byte[] name = t.key().getBytes(StandardCharsets.UTF_8);
        out.writeByte(name.length);
        out.write(name);
        TensorShape.write(out, t.shape());
        out.writeByte(t.kind().ordinal());
        int headerBytes = out.size() - start;
        long floatBytes = 4L * t.size();
        String kind = t.kind().name().toLowerCase(java.util.Locale.ROOT);
        if (t.kind() == QuantizedTensor.Kind.FLOAT) {
            for (float v : t.floats()) {
                out.writeFloat(v);
            }
            return new TensorLayout(t.key(), kind, 32, t.size(), t.size(), 0, false, false, floatBytes,
                    out.size() - start - headerBytes);
        }
        out.writeByte(t.bits());
        out.writeByte(t.channelAxis());
        switch (t.kind()) {
            case LINEAR -> {
                boolean symmetric = Arrays.stream(t.zeroPoints()).allMatch(z -> z == 0);
                out.writeByte(symmetric ? 1 : 0);
                for (float s : t.scales()) {
                    out.writeFloat(s);
                }
                if (!symmetric) {
                    for (int z : t.zeroPoints()) {
                        out.writeShort(z);
                    }
                }
            }
            case KMEANS -> {
                for (float c : t.codebook()) {
                    out.writeFloat(c);
                }
            }
            case BINARY -> {
                for (float s : t.scales()) {
                    out.writeFloat(s);
                }
            }
            default -> throw new IllegalStateException();
        }
        out.writeInt(t.stored());
        out.writeByte(t.positions() != null ? 1 : 0);
        int indexBits = 0;
        boolean huffmanIndices = false;
        if (t.positions() != null) {
            indexBits = bestIndexBits(t.positions(), huffman);
            int[] deltas = relativeIndices(t.positions(), indexBits);
            out.writeInt(deltas.length);
            out.writeByte(indexBits);
            huffmanIndices = writeStream(out, deltas, indexBits, huffman);
        }
        int offset = t.kind() == QuantizedTensor.Kind.LINEAR ? 1 << (t.bits() - 1) : 0;
        int[] symbols = new int[t.codes().length];
        for (int k = 0; k < symbols.length; k++) {
            symbols[k] = t.codes()[k] + offset;
        }
        boolean huffmanCodes = writeStream(out, symbols, t.bits(), huffman);
        return new TensorLayout(t.key(), kind, t.bits(), t.size(), t.stored(), indexBits, huffmanIndices,
                huffmanCodes, floatBytes, out.size() - start - headerBytes);
    }

    /**
     * The index width (1..8 bits) that stores these positions in the fewest bits, fillers included, and
     * with {@code huffman} after Huffman coding (a wider index with few fillers codes close to the gaps'
     * entropy).
     */
    static int bestIndexBits(int[] positions, boolean huffman) {
        int best = 8;
        long bestBits = Long.MAX_VALUE;
        for (int w = 1; w <= 8; w++) {
            long bits = (long) relativeIndexCount(positions, w) * w;
            if (huffman) {
                int[] deltas = relativeIndices(positions, w);
                Huffman code = Huffman.of(deltas, 1 << w);
                if (code != null) {
                    bits = Math.min(bits, Huffman.tableBits(1 << w) + code.codedBits(deltas));
                }
            }
            if (bits < bestBits) {
                bestBits = bits;
                best = w;
            }
        }
        return best;
    }

    private static long relativeIndexCount(int[] positions, int width) {
        int maxGap = (1 << width) - 1;
        long entries = positions.length;
        int previous = -1;
        for (int p : positions) {
            entries += (p - previous - 1) / maxGap;
            previous = p;
        }
        return entries;
    }

    /** Positions as relative indices of {@code width} bits, with fillers for longer gaps. */
    static int[] relativeIndices(int[] positions, int width) {
        int maxGap = (1 << width) - 1;
        int[] out = new int[(int) relativeIndexCount(positions, width)];
        int k = 0;
        int previous = -1;
        for (int p : positions) {
            int gap = p - previous;
            while (gap > maxGap) {
                out[k++] = maxGap;
                gap -= maxGap;
            }
            out[k++] = gap - 1;
            previous = p;
        }
        return out;
    }

    static int[] positionsOf(int[] relative, int width, int stored, int size) throws IOException {
        int maxGap = (1 << width) - 1;
        int[] positions = new int[stored];
        int k = 0;
        long p = -1;
        for (int d : relative) {
            if (d == maxGap) {
                p += maxGap;
                continue;
            }
            p += d + 1;
            if (k == stored || p >= size) {
                throw new IOException("relative indices run past the tensor's " + size + " values");
            }
            positions[k++] = (int) p;
        }
        if (k != stored) {
            throw new IOException(k + " positions for " + stored + " stored values");
        }
        return positions;
    }

    /** Writes the symbols at fixed width or Huffman-coded, whichever is smaller; true if Huffman. */
    private static boolean writeStream(DataOutputStream out, int[] symbols, int width, boolean huffman)
            throws IOException {
        Huffman code = huffman && symbols.length > 0 ? Huffman.of(symbols, 1 << width) : null;
        boolean useHuffman = code != null
                && Huffman.tableBits(1 << width) + code.codedBits(symbols) < (long) width * symbols.length;
        Bits.Writer bits = new Bits.Writer();
        if (useHuffman) {
            code.writeTable(bits);
            code.encode(symbols, bits);
        } else {
            for (int s : symbols) {
                bits.write(s, width);
            }
        }
        byte[] bytes = bits.toByteArray();
        out.writeByte(useHuffman ? CODING_HUFFMAN : CODING_FIXED);
        out.writeInt(bytes.length);
        out.write(bytes);
        return useHuffman;
    }

    private static int[] readStream(DataInputStream in, int count, int width) throws IOException {
        int coding = in.readUnsignedByte();
        byte[] bytes = in.readNBytes(in.readInt());
        Bits.Reader bits = new Bits.Reader(bytes);
        int[] symbols = new int[count];
        if (coding == CODING_HUFFMAN) {
            Huffman code = Huffman.readTable(bits, 1 << width);
            for (int k = 0; k < count; k++) {
                symbols[k] = code.decode(bits);
            }
        } else if (coding == CODING_FIXED) {
            for (int k = 0; k < count; k++) {
                symbols[k] = bits.read(width);
            }
        } else {
            throw new IOException("unknown stream coding " + coding);
        }
        return symbols;
    }

    /**
     * Reads and checks a packed file: magic, version, length, checksum, then every tensor against its
     * network; any fault is one {@link DistillException} line naming the file.
     */
    public static Packed read(Path file) {
        byte[] bytes = ModelFiles.readAllBytes(file);
        if (bytes.length < MAGIC.length || !Arrays.equals(Arrays.copyOf(bytes, MAGIC.length), MAGIC)) {
            throw new DistillException(file + ": not a packed model file (no DSTLPACK header)");
        }
        if (bytes.length < PREAMBLE + 4) {
            throw new DistillException(file + ": truncated packed model file (" + bytes.length + " bytes)");
        }
        ByteBuffer preamble = ByteBuffer.wrap(bytes, MAGIC.length, 6);
        int version = preamble.getShort() & 0xFFFF;
        if (version != VERSION) {
            throw new DistillException(file + ": packed model format version " + version + ", this reader knows "
                    + VERSION);
        }
        long length = preamble.getInt() & 0xFFFFFFFFL;
        if (bytes.length < length) {
            throw new DistillException(file + ": truncated packed model file: " + bytes.length + " of " + length
                    + " bytes");
        }
        if (bytes.length > length) {
            throw new DistillException(file + ": " + (bytes.length - length) + " bytes after the end of the packed "
                    + "model (" + length + " bytes)");
        }
        CRC32 crc = new CRC32();
        crc.update(bytes, 0, bytes.length - 4);
        if ((int) crc.getValue() != ByteBuffer.wrap(bytes, bytes.length - 4, 4).getInt()) {
            throw new DistillException(file + ": checksum mismatch: the packed model file is damaged");
        }
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes, PREAMBLE,
                    bytes.length - 4 - PREAMBLE));
            int archKind = in.readUnsignedByte();
            byte[] arch = in.readNBytes(in.readInt());
            MultiLayerNetwork net;
            if (archKind == ARCH_COMPACT) {
                net = Architecture.build(Architecture.parse(new String(arch, StandardCharsets.UTF_8)));
            } else if (archKind == ARCH_DL4J) {
                net = new MultiLayerNetwork(MultiLayerConfiguration.fromJson(new String(inflate(arch),
                        StandardCharsets.UTF_8)));
                net.init();
            } else {
                throw new IOException("unknown architecture kind " + archKind);
            }
            int ranges = in.readUnsignedShort();
            List<ActivationCalibration.Range> activations = new ArrayList<>();
            for (int i = 0; i < ranges; i++) {
                activations.add(new ActivationCalibration.Range(in.readUnsignedShort(), in.readFloat(),
                        in.readShort()));
            }
            int count = in.readUnsignedShort();
            if (count != net.paramTable().size()) {
                throw new IOException(count + " tensors for a network with " + net.paramTable().size());
            }
            List<QuantizedTensor> tensors = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                QuantizedTensor t = readTensor(in);
                INDArray target = net.paramTable().get(t.key());
                if (target == null) {
                    throw new IOException("tensor " + t.key() + " is not a parameter of its network");
                }
                if (!Arrays.equals(t.shape(), target.shape())) {
                    throw new IOException("tensor " + t.key() + " has shape " + Arrays.toString(t.shape())
                            + ", its network expects " + Arrays.toString(target.shape()));
                }
                net.setParam(t.key(), Nd4j.create(t.dequantize(), t.shape(), 'c'));
                tensors.add(t);
            }
            if (in.available() != 0) {
                throw new IOException(in.available() + " bytes left after the last tensor");
            }
            // a network built from a configuration lacks the helpers NetworkFactory puts into conv layers
            ConvBackend.DEFAULT.apply(net);
            return new Packed(net, tensors, activations, archKind == ARCH_COMPACT);
        } catch (IOException | RuntimeException e) {
            throw new DistillException(file + ": malformed packed model file (" + e.getMessage() + ")", e);
        }
    }

    private static QuantizedTensor readTensor(DataInputStream in) throws IOException {
        String key = new String(in.readNBytes(in.readUnsignedByte()), StandardCharsets.UTF_8);
        long[] shape = TensorShape.read(in, key);
        int n = TensorShape.elements(shape);
        int kindCode = in.readUnsignedByte();
        if (kindCode >= QuantizedTensor.Kind.values().length) {
            throw new IOException("tensor " + key + ": unknown kind " + kindCode);
        }
        QuantizedTensor.Kind kind = QuantizedTensor.Kind.values()[kindCode];
        if (kind == QuantizedTensor.Kind.FLOAT) {
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                v[i] = in.readFloat();
            }
            return QuantizedTensor.ofFloats(key, shape, v);
        }
        int bits = in.readUnsignedByte();
        int axis = in.readByte();
        if (bits < 1 || bits > 8 || axis >= shape.length || axis < -1) {
            throw new IOException("tensor " + key + ": " + bits + " bits, channel axis " + axis);
        }
        int channels = axis < 0 ? 1 : (int) shape[axis];
        float[] scales = null;
        int[] zeroPoints = null;
        float[] codebook = null;
        switch (kind) {
            case LINEAR -> {
                boolean symmetric = in.readUnsignedByte() == 1;
                scales = floats(in, channels);
                zeroPoints = new int[channels];
                if (!symmetric) {
                    for (int c = 0; c < channels; c++) {
                        zeroPoints[c] = in.readShort();
                    }
                }
            }
            case KMEANS -> codebook = floats(in, 1 << bits);
            case BINARY -> scales = floats(in, channels);
            default -> throw new IllegalStateException();
        }
        int stored = in.readInt();
        boolean sparse = in.readUnsignedByte() == 1;
        if (stored < 0 || stored > n || (!sparse && stored != n)) {
            throw new IOException("tensor " + key + ": " + stored + " stored values of " + n);
        }
        int[] positions = null;
        if (sparse) {
            int entries = in.readInt();
            int indexBits = in.readUnsignedByte();
            if (entries < stored || indexBits < 1 || indexBits > 8) {
                throw new IOException("tensor " + key + ": " + entries + " relative indices of " + indexBits + " bits");
            }
            positions = positionsOf(readStream(in, entries, indexBits), indexBits, stored, n);
        }
        int[] codes = readStream(in, stored, bits);
        int offset = kind == QuantizedTensor.Kind.LINEAR ? 1 << (bits - 1) : 0;
        for (int k = 0; k < codes.length; k++) {
            codes[k] -= offset;
        }
        return new QuantizedTensor(key, shape, kind, bits, axis, scales, zeroPoints, codebook, positions, codes, null);
    }

    private static float[] floats(DataInputStream in, int n) throws IOException {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = in.readFloat();
        }
        return v;
    }

    private static byte[] deflate(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (DeflaterOutputStream z = new DeflaterOutputStream(out, new Deflater(Deflater.BEST_COMPRESSION))) {
            z.write(data);
        }
        return out.toByteArray();
    }

    private static byte[] inflate(byte[] data) throws IOException {
        try (InflaterInputStream z = new InflaterInputStream(new ByteArrayInputStream(data))) {
            return z.readAllBytes();
        }
    }
}
