package dev.distill.core.quant;

import dev.distill.core.DistillException;
import dev.distill.core.io.ModelFiles;
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
import java.util.zip.Inflater;
import java.util.zip.InflaterInputStream;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Our packed model file: weights at their real bit width, so an INT8 model is a quarter of the float
 * one and a 4-bit k-means model an eighth, before any entropy coding.
 *
 * <p>Layout (version 2, big-endian; "varint" is an unsigned LEB128 count): magic {@code DSTLPACK},
 * format version (u16), the file's length in bytes (u32), the architecture (u8 kind: 0 our compact
 * dense JSON, 1 DL4J's configuration JSON; varint length; the JSON raw-deflated with a preset dictionary), the activation ranges
 * of the integer path (u16 count; per range the layer (u16), scale (f32), zero point (i16)), the tensors
 * (varint count), a CRC-32 of every byte before it. A tensor: key (u8 length, UTF-8), rank (varint),
 * dimensions (varints), kind (u8: 0 float32, 1 linear, 2 k-means, 3 binary); float: a float block of
 * the values; otherwise bits (u8), channel axis (i8, −1 per tensor), then linear: symmetric (u8), a float
 * block of scales (one per channel), zero points (i16 per channel, asymmetric only); k-means: a float
 * block of the 2^bits centroids; binary: a float block of scales; then the number of stored values
 * (varint), the layout (u8: 0 dense, 1 sparse in c order, 2 sparse with the first axis fastest, as
 * compressed sparse columns; the writer takes whichever codes smaller), if sparse the positions in that
 * order as relative indices (Deep Compression): entries (varint), index bits (u8) and a stream; then the
 * codes as a stream, in the positions' order. A float block is a precision (u8: 0 f32, 1 f16 when every
 * value is exactly a half) and the values. A stream is coding (u8: 0 fixed width, 1 canonical Huffman
 * with its table first), its length (varint) and its bytes. A relative index d below 2^indexBits − 1
 * means "the next stored value is d + 1 positions on"; d = 2^indexBits − 1 is a filler that moves on
 * that many positions and stores nothing, for gaps the width cannot hold. Version 1 files (u32 counts,
 * f32 floats, uncompressed compact JSON) are refused with a one-line error: re-run the stage.
 */
public final class PackedModelFile {

    static final byte[] MAGIC = "DSTLPACK".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 2;
    /** Magic, version, length: what must be there before anything can be checked. */
    private static final int PREAMBLE = MAGIC.length + 2 + 4;

    private static final int ARCH_COMPACT = 0;
    private static final int ARCH_DL4J = 1;
    private static final int CODING_FIXED = 0;
    private static final int CODING_HUFFMAN = 1;
    private static final int DENSE = 0;
    private static final int SPARSE_C_ORDER = 1;
    /** Sparse, positions walked with the first axis fastest (Deep Compression's compressed sparse columns for dense [in, out]). */
    private static final int SPARSE_F_ORDER = 2;
    private static final int FLOAT32 = 0;
    private static final int FLOAT16 = 1;

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
            byte[] arch = deflate((compact != null ? compact : shipped.getLayerWiseConfigurations().toJson())
                    .getBytes(StandardCharsets.UTF_8));
            out.writeByte(compact != null ? ARCH_COMPACT : ARCH_DL4J);
            writeVarint(out, arch.length);
            out.write(arch);
            out.writeShort(activations.size());
            for (ActivationCalibration.Range r : activations) {
                out.writeShort(r.layer());
                out.writeFloat(r.scale());
                out.writeShort(r.zeroPoint());
            }
            Map<String, INDArray> params = shipped.paramTable();
            writeVarint(out, params.size());
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
        writeVarint(out, t.shape().length);
        for (long d : t.shape()) {
            writeVarint(out, (int) d);
        }
        out.writeByte(t.kind().ordinal());
        int headerBytes = out.size() - start;
        long floatBytes = 4L * t.size();
        String kind = t.kind().name().toLowerCase(java.util.Locale.ROOT);
        if (t.kind() == QuantizedTensor.Kind.FLOAT) {
            boolean half = writeFloats(out, t.floats());
            return new TensorLayout(t.key(), kind, half ? 16 : 32, t.size(), t.size(), 0, false, false, floatBytes,
                    out.size() - start - headerBytes);
        }
        out.writeByte(t.bits());
        out.writeByte(t.channelAxis());
        switch (t.kind()) {
            case LINEAR -> {
                boolean symmetric = Arrays.stream(t.zeroPoints()).allMatch(z -> z == 0);
                out.writeByte(symmetric ? 1 : 0);
                writeFloats(out, t.scales());
                if (!symmetric) {
                    for (int z : t.zeroPoints()) {
                        out.writeShort(z);
                    }
                }
            }
            case KMEANS -> writeFloats(out, t.codebook());
            case BINARY -> writeFloats(out, t.scales());
            default -> throw new IllegalStateException();
        }
        writeVarint(out, t.stored());
        int indexBits = 0;
        boolean huffmanIndices = false;
        int[] codes = t.codes();
        if (t.positions() == null) {
            out.writeByte(DENSE);
        } else {
            // the order whose relative indices take fewer bits: pruning often empties whole input rows
            // or output columns, and walking along them turns those into a few long gaps
            int[] fPositions = toFOrder(t.positions(), t.shape());
            int[] byF = sortedBy(fPositions);
            int[] fSorted = new int[byF.length];
            for (int k = 0; k < byF.length; k++) {
                fSorted[k] = fPositions[byF[k]];
            }
            int cBits = bestIndexBits(t.positions(), huffman);
            int fBits = bestIndexBits(fSorted, huffman);
            boolean fOrder = indexBitsCost(fSorted, fBits, huffman) < indexBitsCost(t.positions(), cBits, huffman);
            int[] positions = fOrder ? fSorted : t.positions();
            indexBits = fOrder ? fBits : cBits;
            if (fOrder) {
                codes = new int[byF.length];
                for (int k = 0; k < byF.length; k++) {
                    codes[k] = t.codes()[byF[k]];
                }
            }
            out.writeByte(fOrder ? SPARSE_F_ORDER : SPARSE_C_ORDER);
            int[] deltas = relativeIndices(positions, indexBits);
            writeVarint(out, deltas.length);
            out.writeByte(indexBits);
            huffmanIndices = writeStream(out, deltas, indexBits, huffman);
        }
        int offset = t.kind() == QuantizedTensor.Kind.LINEAR ? 1 << (t.bits() - 1) : 0;
        int[] symbols = new int[codes.length];
        for (int k = 0; k < symbols.length; k++) {
            symbols[k] = codes[k] + offset;
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
            long bits = indexBitsCost(positions, w, huffman);
            if (bits < bestBits) {
                bestBits = bits;
                best = w;
            }
        }
        return best;
    }

    /** The bits these positions take as relative indices of {@code width} bits, Huffman-coded if that is smaller. */
    static long indexBitsCost(int[] positions, int width, boolean huffman) {
        long bits = relativeIndexCount(positions, width) * width;
        if (huffman) {
            int[] deltas = relativeIndices(positions, width);
            Huffman code = Huffman.of(deltas, 1 << width);
            if (code != null) {
                bits = Math.min(bits, Huffman.tableBits(1 << width) + code.codedBits(deltas));
            }
        }
        return bits;
    }

    /** Flat c-order indices (last axis fastest) as flat indices with the first axis fastest (Fortran order). */
    static int[] toFOrder(int[] positions, long[] shape) {
        return reorder(positions, shape, true);
    }

    /** The inverse of {@link #toFOrder}. */
    static int[] toCOrder(int[] positions, long[] shape) {
        return reorder(positions, shape, false);
    }

    private static int[] reorder(int[] positions, long[] shape, boolean toF) {
        int rank = shape.length;
        long[] cStride = new long[rank];
        long[] fStride = new long[rank];
        for (int d = rank - 1, s = 1; d >= 0; s *= shape[d], d--) {
            cStride[d] = s;
        }
        for (int d = 0, s = 1; d < rank; s *= shape[d], d++) {
            fStride[d] = s;
        }
        long[] from = toF ? cStride : fStride;
        long[] to = toF ? fStride : cStride;
        int[] out = new int[positions.length];
        for (int k = 0; k < positions.length; k++) {
            long moved = 0;
            for (int d = 0; d < rank; d++) {
                moved += (positions[k] / from[d] % shape[d]) * to[d];
            }
            out[k] = (int) moved;
        }
        return out;
    }

    /** The indices that put {@code values} in ascending order. */
    static int[] sortedBy(int[] values) {
        return java.util.stream.IntStream.range(0, values.length).boxed()
                .sorted(java.util.Comparator.comparingInt(k -> values[k])).mapToInt(Integer::intValue).toArray();
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
        writeVarint(out, bytes.length);
        out.write(bytes);
        return useHuffman;
    }

    private static int[] readStream(DataInputStream in, int count, int width) throws IOException {
        int coding = in.readUnsignedByte();
        byte[] bytes = in.readNBytes(readVarint(in));
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
                    + VERSION + " (re-run the quantize stage to write it again)");
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
            byte[] arch = in.readNBytes(readVarint(in));
            MultiLayerNetwork net;
            if (archKind == ARCH_COMPACT) {
                net = Architecture.build(Architecture.parse(new String(inflate(arch), StandardCharsets.UTF_8)));
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
            int count = readVarint(in);
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
        long[] shape = new long[readVarint(in)];
        long elements = 1;
        for (int d = 0; d < shape.length; d++) {
            shape[d] = readVarint(in);
            elements *= shape[d];
            if (elements > Integer.MAX_VALUE) {
                throw new IOException("tensor " + key + ": impossible shape");
            }
        }
        int n = (int) elements;
        int kindCode = in.readUnsignedByte();
        if (kindCode >= QuantizedTensor.Kind.values().length) {
            throw new IOException("tensor " + key + ": unknown kind " + kindCode);
        }
        QuantizedTensor.Kind kind = QuantizedTensor.Kind.values()[kindCode];
        if (kind == QuantizedTensor.Kind.FLOAT) {
            return QuantizedTensor.ofFloats(key, shape, readFloats(in, n));
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
                scales = readFloats(in, channels);
                zeroPoints = new int[channels];
                if (!symmetric) {
                    for (int c = 0; c < channels; c++) {
                        zeroPoints[c] = in.readShort();
                    }
                }
            }
            case KMEANS -> codebook = readFloats(in, 1 << bits);
            case BINARY -> scales = readFloats(in, channels);
            default -> throw new IllegalStateException();
        }
        int stored = readVarint(in);
        int layout = in.readUnsignedByte();
        if (layout > SPARSE_F_ORDER) {
            throw new IOException("tensor " + key + ": unknown layout " + layout);
        }
        boolean sparse = layout != DENSE;
        if (stored > n || (!sparse && stored != n)) {
            throw new IOException("tensor " + key + ": " + stored + " stored values of " + n);
        }
        int[] positions = null;
        if (sparse) {
            int entries = readVarint(in);
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
        if (layout == SPARSE_F_ORDER) {
            // back to the c order (ascending flat indices) every tensor is held in
            int[] cPositions = toCOrder(positions, shape);
            int[] byC = sortedBy(cPositions);
            int[] sortedCodes = new int[stored];
            positions = new int[stored];
            for (int k = 0; k < stored; k++) {
                positions[k] = cPositions[byC[k]];
                sortedCodes[k] = codes[byC[k]];
            }
            codes = sortedCodes;
        }
        return new QuantizedTensor(key, shape, kind, bits, axis, scales, zeroPoints, codebook, positions, codes, null);
    }

    /** Float parameters at 16 bits when every one of them is exactly a half ({@link Half}), else at 32. */
    private static boolean writeFloats(DataOutputStream out, float[] values) throws IOException {
        boolean half = Half.holdsAll(values);
        out.writeByte(half ? FLOAT16 : FLOAT32);
        for (float v : values) {
            if (half) {
                out.writeShort(Half.bits(v));
            } else {
                out.writeFloat(v);
            }
        }
        return half;
    }

    private static float[] readFloats(DataInputStream in, int n) throws IOException {
        int precision = in.readUnsignedByte();
        if (precision != FLOAT16 && precision != FLOAT32) {
            throw new IOException("unknown float precision " + precision);
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = precision == FLOAT16 ? Half.value(in.readUnsignedShort()) : in.readFloat();
        }
        return v;
    }

    /** An unsigned LEB128 varint: 7 bits a byte, low bits first; counts and lengths are mostly one or two bytes. */
    static void writeVarint(DataOutputStream out, int value) throws IOException {
        if (value < 0) {
            throw new IllegalArgumentException("negative varint " + value);
        }
        int v = value;
        while (v >= 0x80) {
            out.writeByte(v & 0x7F | 0x80);
            v >>>= 7;
        }
        out.writeByte(v);
    }

    static int readVarint(DataInputStream in) throws IOException {
        long value = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            int b = in.readUnsignedByte();
            value |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                if (value > Integer.MAX_VALUE) {
                    break;
                }
                return (int) value;
            }
        }
        throw new IOException("a count beyond 2^31 (a damaged varint)");
    }

    /**
     * A preset dictionary for the architecture's deflate stream (as zlib allows): the words and
     * punctuation of the compact JSON (no layer sizes) and DL4J's activation names. The 125 characters
     * of a 784-32-10 MLP's JSON deflate to 22 bytes with it, 95 without.
     */
    private static final byte[] ARCH_DICTIONARY = ("TANH SIGMOID IDENTITY LEAKYRELU ELU GELU SWISH SOFTPLUS HARDTANH "
            + "{\"layers\":[{\"type\":\"dense\",\"in\":,\"out\":,\"activation\":\"RELU\"},"
            + "{\"type\":\"output\",\"in\":,\"out\":,\"activation\":\"SOFTMAX\"}]}")
            .getBytes(StandardCharsets.US_ASCII);

    static byte[] deflate(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION, true);
        deflater.setDictionary(ARCH_DICTIONARY);
        try (DeflaterOutputStream z = new DeflaterOutputStream(out, deflater)) {
            z.write(data);
        }
        return out.toByteArray();
    }

    static byte[] inflate(byte[] data) throws IOException {
        Inflater inflater = new Inflater(true);
        inflater.setDictionary(ARCH_DICTIONARY);
        try (InflaterInputStream z = new InflaterInputStream(new ByteArrayInputStream(data), inflater)) {
            return z.readAllBytes();
        }
    }
}
