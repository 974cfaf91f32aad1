package dev.distill.runtime;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;
import java.util.zip.CRC32;

/**
 * The packed model file, version 4: the architecture in the runtime's own terms ({@link Op}s), weights at
 * their real bit width (an int8 model is a quarter of the float one, a 4-bit k-means one an eighth,
 * before entropy coding), the preprocessing and the class names.
 *
 * <p>Layout (big-endian; "varint" is an unsigned LEB128 count below 2^31): magic {@code DSTLPACK}, format
 * version (u16), the file's length in bytes (u32), the input shape (3 varints: channels, height, width),
 * the preprocessing (f32 scale, f32 shift, then a varint count of per-feature pairs and as many f32 scales
 * and f32 shifts; version 3 files, read too, have no count), the class names (varint count; each a varint length and
 * UTF-8), the ops (varint count; each a kind (u8, {@link Op.Kind}'s order), the values it reads (varint
 * count, 0 for the value before it, then varints: 0 the input, k + 1 op k's output) and its fields), a CRC-32 of
 * every byte before it. An op's fields: a window is 8 varints (kernel, stride, padding, dilation; height
 * then width each) and a u8 "same"; an activation is a u8 ({@link ActivationFunction}'s order) and an
 * f32 α; an int8 input range is a u8 flag, then f32 scale and i16 zero point. Dense: activation, range,
 * weights tensor, u8 has-bias, bias tensor. Conv2d and depthwise conv2d: window, activation, range,
 * weights, u8 has-bias, bias. Pooling: window. Global pooling: nothing. Scale-shift: varint channels and
 * two float blocks. Activation: an activation. Add and concat: nothing. Subset: varints from and to.
 *
 * <p>A tensor: key (u8 length, UTF-8), rank (varint), dimensions (varints), kind (u8: 0 float32, 1 linear,
 * 2 k-means, 3 binary); float: a float block of the values; otherwise bits (u8), channel axis (i8, −1 per
 * tensor), then linear: symmetric (u8), a float block of scales (one per channel), zero points (i16 per
 * channel, asymmetric only); k-means: a float block of the 2^bits centroids; binary: a float block of
 * scales; then the number of stored values (varint), the layout (u8: 0 dense, 1 sparse in c order, 2
 * sparse with the first axis fastest, as compressed sparse columns; the writer takes whichever codes
 * smaller), if sparse the positions in that order as relative indices (Deep Compression): entries
 * (varint), index bits (u8) and a stream; then the codes as a stream, in the positions' order. A float
 * block is a precision (u8: 0 f32, 1 f16 when every value is exactly a half) and the values. A stream is
 * coding (u8: 0 fixed width, 1 canonical Huffman with its table first), its length (varint) and its
 * bytes. A relative index d below 2^indexBits − 1 means "the next stored value is d + 1 positions on";
 * d = 2^indexBits − 1 is a filler that moves on that many positions and stores nothing.
 *
 * <p>Reading checks every declared count and size against the bytes left before allocating anything, and
 * the values all tensors declare against a budget proportional to the file's length (a pruned tensor
 * stores few of its values, but not fewer than one in {@link #VALUES_PER_BYTE} per byte), so a damaged
 * or hostile file ends in a {@link ModelFormatException}, never in an OutOfMemoryError.
 */
public final class PackedFormat {

    static final byte[] MAGIC = "DSTLPACK".getBytes(StandardCharsets.US_ASCII);
    public static final int VERSION = 4;
    /** The version before per-feature preprocessing, still read (its files have no per-feature pairs). */
    static final int VERSION_WITHOUT_FEATURES = 3;
    /** Magic, version, length: what must be there before anything can be checked. */
    private static final int PREAMBLE = MAGIC.length + 2 + 4;
    /** The most values all tensors may declare per byte of the file (zeros of pruned tensors included). */
    static final long VALUES_PER_BYTE = 4096;
    /** Values any file may declare regardless of its length (a small dense model's zeros). */
    private static final long VALUES_FREE = 1L << 20;
    /** The largest file the runtime reads: far above any model it is meant for. */
    public static final long MAX_FILE_BYTES = 1L << 30;

    private static final int CODING_FIXED = 0;
    private static final int CODING_HUFFMAN = 1;
    private static final int DENSE_LAYOUT = 0;
    private static final int SPARSE_C_ORDER = 1;
    /** Sparse, positions walked with the first axis fastest (compressed sparse columns for dense [in, out]). */
    private static final int SPARSE_F_ORDER = 2;
    private static final int FLOAT32 = 0;
    private static final int FLOAT16 = 1;

    private PackedFormat() {
    }

    /** Whether {@code head} (a file's first bytes) starts with the packed format's magic. */
    public static boolean hasMagic(byte[] head) {
        return head.length >= MAGIC.length && Arrays.equals(Arrays.copyOf(head, MAGIC.length), MAGIC);
    }

    /** The bytes of a written model and what each tensor cost. */
    public static final class Written {
        private final byte[] bytes;
        private final List<TensorLayout> layouts;

        Written(byte[] bytes, List<TensorLayout> layouts) {
            this.bytes = bytes;
            this.layouts = layouts;
        }

        public byte[] bytes() {
            return bytes.clone();
        }

        public List<TensorLayout> layouts() {
            return layouts;
        }
    }

    /** The model in this format; {@code huffman}: Huffman-code codes and indices where that is smaller. */
    public static Written write(ModelDescription model, boolean huffman) {
        List<TensorLayout> layouts = new ArrayList<>();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            DataOutputStream out = new DataOutputStream(bytes);
            out.write(MAGIC);
            out.writeShort(VERSION);
            out.writeInt(0); // the length, filled in below
            for (int d : model.inputShape()) {
                writeVarint(out, d);
            }
            out.writeFloat(model.preprocessing().scale());
            out.writeFloat(model.preprocessing().shift());
            float[] featureScales = model.preprocessing().featureScales();
            float[] featureShifts = model.preprocessing().featureShifts();
            writeVarint(out, featureScales.length);
            for (float v : featureScales) {
                out.writeFloat(v);
            }
            for (float v : featureShifts) {
                out.writeFloat(v);
            }
            writeVarint(out, model.classNames().size());
            for (String name : model.classNames()) {
                byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
                writeVarint(out, utf8.length);
                out.write(utf8);
            }
            writeVarint(out, model.ops().size());
            for (Op op : model.ops()) {
                out.writeByte(op.kind.ordinal());
                int[] inputs = op.inputs == null ? new int[0] : op.inputs;
                writeVarint(out, inputs.length);
                for (int v : inputs) {
                    writeVarint(out, v);
                }
                switch (op.kind) {
                    case DENSE:
                        writeWeighted(out, op, huffman, layouts);
                        break;
                    case CONV2D:
                    case DEPTHWISE_CONV2D:
                        writeWindow(out, op.window);
                        writeWeighted(out, op, huffman, layouts);
                        break;
                    case MAX_POOL:
                    case AVG_POOL:
                        writeWindow(out, op.window);
                        break;
                    case SCALE_SHIFT:
                        writeVarint(out, op.scale.length);
                        writeFloats(out, op.scale);
                        writeFloats(out, op.shift);
                        break;
                    case ACTIVATION:
                        writeActivation(out, op);
                        break;
                    case SUBSET:
                        writeVarint(out, op.from);
                        writeVarint(out, op.to);
                        break;
                    default:
                        break;
                }
            }
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        byte[] body = bytes.toByteArray();
        ByteBuffer.wrap(body, MAGIC.length + 2, 4).putInt(body.length + 4);
        CRC32 crc = new CRC32();
        crc.update(body);
        byte[] file = Arrays.copyOf(body, body.length + 4);
        ByteBuffer.wrap(file, body.length, 4).putInt((int) crc.getValue());
        return new Written(file, List.copyOf(layouts));
    }

    private static void writeWeighted(DataOutputStream out, Op op, boolean huffman, List<TensorLayout> layouts)
            throws IOException {
        writeActivation(out, op);
        out.writeByte(op.inputRange != null ? 1 : 0);
        if (op.inputRange != null) {
            out.writeFloat(op.inputRange.scale);
            out.writeShort(op.inputRange.zeroPoint);
        }
        layouts.add(writeTensor(out, op.weights, huffman));
        out.writeByte(op.bias != null ? 1 : 0);
        if (op.bias != null) {
            layouts.add(writeTensor(out, op.bias, huffman));
        }
    }

    private static void writeWindow(DataOutputStream out, Window w) throws IOException {
        for (int v : new int[] {w.kernelH, w.kernelW, w.strideH, w.strideW, w.padH, w.padW, w.dilationH,
                w.dilationW}) {
            writeVarint(out, v);
        }
        out.writeByte(w.same ? 1 : 0);
    }

    private static void writeActivation(DataOutputStream out, Op op) throws IOException {
        out.writeByte(op.activation.ordinal());
        out.writeFloat(op.alpha);
    }

    private static TensorLayout writeTensor(DataOutputStream out, QuantizedTensor t, boolean huffman)
            throws IOException {
        int start = out.size();
        byte[] name = t.key().getBytes(StandardCharsets.UTF_8);
        if (name.length > 255) {
            throw new IllegalArgumentException("tensor key longer than 255 bytes: " + t.key());
        }
        out.writeByte(name.length);
        out.write(name);
        writeVarint(out, t.shape().length);
        for (long d : t.shape()) {
            writeVarint(out, (int) d);
        }
        out.writeByte(t.kind().ordinal());
        int headerBytes = out.size() - start;
        long floatBytes = 4L * t.size();
        String kind = t.kind().name().toLowerCase(Locale.ROOT);
        if (t.kind() == QuantizedTensor.Kind.FLOAT) {
            boolean half = writeFloats(out, t.floats());
            return new TensorLayout(t.key(), kind, half ? 16 : 32, t.size(), t.size(), 0, false, false, floatBytes,
                    out.size() - start - headerBytes);
        }
        out.writeByte(t.bits());
        out.writeByte(t.channelAxis());
        switch (t.kind()) {
            case LINEAR: {
                boolean symmetric = Arrays.stream(t.zeroPoints()).allMatch(z -> z == 0);
                out.writeByte(symmetric ? 1 : 0);
                writeFloats(out, t.scales());
                if (!symmetric) {
                    for (int z : t.zeroPoints()) {
                        out.writeShort(z);
                    }
                }
                break;
            }
            case KMEANS:
                writeFloats(out, t.codebook());
                break;
            case BINARY:
                writeFloats(out, t.scales());
                break;
            default:
                throw new IllegalStateException();
        }
        writeVarint(out, t.stored());
        int indexBits = 0;
        boolean huffmanIndices = false;
        int[] codes = t.codes();
        if (t.positions() == null) {
            out.writeByte(DENSE_LAYOUT);
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
     * with {@code huffman} after Huffman coding.
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
        return IntStream.range(0, values.length).boxed().sorted(Comparator.comparingInt(k -> values[k]))
                .mapToInt(Integer::intValue).toArray();
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

    // ---------------------------------------------------------------------------------------------- reading

    /**
     * Reads and checks a packed model: magic, version, length, checksum, then every op and tensor; any
     * fault is one {@link ModelFormatException} line starting with {@code source}.
     */
    public static ModelDescription read(byte[] bytes, String source) throws ModelFormatException {
        if (!hasMagic(bytes)) {
            throw new ModelFormatException(source + ": not a packed model file (no DSTLPACK header)");
        }
        if (bytes.length < PREAMBLE + 4) {
            throw new ModelFormatException(source + ": truncated packed model file (" + bytes.length + " bytes)");
        }
        ByteBuffer preamble = ByteBuffer.wrap(bytes, MAGIC.length, 6);
        int version = preamble.getShort() & 0xFFFF;
        if (version != VERSION && version != VERSION_WITHOUT_FEATURES) {
            throw new ModelFormatException(source + ": packed model format version " + version + ", this runtime"
                    + " reads versions " + VERSION_WITHOUT_FEATURES + " and " + VERSION + (version < VERSION ? " (write it again: re-run the quantize"
                    + " stage, or ./distill export on the model's .zip or .sparse file)" : " (a newer distill wrote"
                    + " it: update distill-runtime)"));
        }
        long length = preamble.getInt() & 0xFFFFFFFFL;
        if (bytes.length < length) {
            throw new ModelFormatException(source + ": truncated packed model file: " + bytes.length + " of "
                    + length + " bytes");
        }
        if (bytes.length > length) {
            throw new ModelFormatException(source + ": " + (bytes.length - length) + " bytes after the end of the"
                    + " packed model (" + length + " bytes)");
        }
        CRC32 crc = new CRC32();
        crc.update(bytes, 0, bytes.length - 4);
        if ((int) crc.getValue() != ByteBuffer.wrap(bytes, bytes.length - 4, 4).getInt()) {
            throw new ModelFormatException(source + ": checksum mismatch: the packed model file is damaged");
        }
        Source in = new Source(bytes, PREAMBLE, bytes.length - 4);
        try {
            int[] input = new int[3];
            for (int d = 0; d < 3; d++) {
                input[d] = in.varint();
            }
            float scale = in.f32();
            float shift = in.f32();
            int features = version == VERSION_WITHOUT_FEATURES ? 0 : in.count("per-feature pairs", 8);
            if (features != 0 && features != (long) input[0] * input[1] * input[2]) {
                throw new IOException(features + " per-feature preprocessing pairs for an input of "
                        + (long) input[0] * input[1] * input[2] + " values");
            }
            float[] featureScales = new float[features];
            float[] featureShifts = new float[features];
            for (int i = 0; i < features; i++) {
                featureScales[i] = in.f32();
            }
            for (int i = 0; i < features; i++) {
                featureShifts[i] = in.f32();
            }
            Preprocessing pre = new Preprocessing(scale, shift, featureScales, featureShifts);
            int classes = in.count("class names", 1);
            List<String> names = new ArrayList<>();
            for (int i = 0; i < classes; i++) {
                names.add(new String(in.bytes(in.varint()), StandardCharsets.UTF_8));
            }
            int count = in.count("ops", 1);
            List<Op> ops = new ArrayList<>();
            long budget = VALUES_FREE + VALUES_PER_BYTE * bytes.length;
            long[] declared = {0};
            for (int i = 0; i < count; i++) {
                ops.add(readOp(in, i, budget, declared));
            }
            if (in.remaining() != 0) {
                throw new IOException(in.remaining() + " bytes left after the last op");
            }
            return new ModelDescription(input, pre, names, ops);
        } catch (IOException | RuntimeException e) {
            throw new ModelFormatException(source + ": malformed packed model file at byte " + in.position + " ("
                    + e.getMessage() + ")", e);
        }
    }

    private static Op readOp(Source in, int index, long budget, long[] declared) throws IOException {
        int code = in.u8();
        if (code >= Op.Kind.values().length) {
            throw new IOException("op " + index + ": unknown kind " + code);
        }
        Op.Kind kind = Op.Kind.values()[code];
        int count = in.count("inputs of op " + index, 1);
        int[] inputs = new int[count];
        for (int k = 0; k < count; k++) {
            inputs[k] = in.varint();
            if (inputs[k] > index) {
                throw new IOException("op " + index + " reads value " + inputs[k] + ", which is not before it");
            }
        }
        Op op = readOpBody(in, kind, index, budget, declared);
        return count == 0 ? op : op.withInputs(inputs);
    }

    private static Op readOpBody(Source in, Op.Kind kind, int index, long budget, long[] declared) throws IOException {
        switch (kind) {
            case DENSE:
                return readWeighted(in, kind, null, index, budget, declared);
            case CONV2D:
            case DEPTHWISE_CONV2D:
                return readWeighted(in, kind, readWindow(in), index, budget, declared);
            case MAX_POOL:
            case AVG_POOL:
                return Op.pool(kind == Op.Kind.MAX_POOL, readWindow(in));
            case GLOBAL_AVG_POOL:
            case GLOBAL_MAX_POOL:
                return Op.globalPool(kind == Op.Kind.GLOBAL_MAX_POOL);
            case SCALE_SHIFT: {
                int channels = in.count("scale-shift channels", 2);
                return Op.scaleShift(readFloats(in, channels), readFloats(in, channels));
            }
            case ACTIVATION: {
                ActivationFunction f = readActivation(in, index);
                return Op.activation(f, in.f32());
            }
            case ADD:
                return Op.add();
            case CONCAT:
                return Op.concat();
            case SUBSET:
                return Op.subset(in.varint(), in.varint());
            default:
                throw new IllegalStateException(kind.name());
        }
    }

    private static Op readWeighted(Source in, Op.Kind kind, Window window, int index, long budget, long[] declared)
            throws IOException {
        ActivationFunction f = readActivation(in, index);
        float alpha = in.f32();
        Int8Range range = null;
        int hasRange = in.u8();
        if (hasRange == 1) {
            float scale = in.f32();
            int zero = in.i16();
            if (!(scale > 0) || !Float.isFinite(scale) || zero < -128 || zero > 127) {
                throw new IOException("op " + index + ": int8 range scale " + scale + ", zero point " + zero);
            }
            range = new Int8Range(scale, zero);
        } else if (hasRange != 0) {
            throw new IOException("op " + index + ": range flag " + hasRange);
        }
        QuantizedTensor w = readTensor(in, budget, declared);
        QuantizedTensor b = null;
        int hasBias = in.u8();
        if (hasBias == 1) {
            b = readTensor(in, budget, declared);
        } else if (hasBias != 0) {
            throw new IOException("op " + index + ": bias flag " + hasBias);
        }
        Op op = kind == Op.Kind.DENSE ? Op.dense(w, b, f, alpha)
                : kind == Op.Kind.CONV2D ? Op.conv2d(w, b, window, f, alpha)
                : Op.depthwiseConv2d(w, b, window, f, alpha);
        return range == null ? op : op.withInputRange(range);
    }

    private static Window readWindow(Source in) throws IOException {
        int[] v = new int[8];
        for (int i = 0; i < v.length; i++) {
            v[i] = in.varint();
        }
        int same = in.u8();
        if (same > 1) {
            throw new IOException("window mode flag " + same);
        }
        return new Window(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], same == 1);
    }

    private static ActivationFunction readActivation(Source in, int index) throws IOException {
        int a = in.u8();
        if (a >= ActivationFunction.values().length) {
            throw new IOException("op " + index + ": unknown activation " + a);
        }
        return ActivationFunction.values()[a];
    }

    private static QuantizedTensor readTensor(Source in, long budget, long[] declared) throws IOException {
        String key = new String(in.bytes(in.u8()), StandardCharsets.UTF_8);
        int rank = in.varint();
        if (rank < 1 || rank > 4) {
            throw new IOException("tensor " + key + ": rank " + rank);
        }
        long[] shape = new long[rank];
        long elements = 1;
        for (int d = 0; d < rank; d++) {
            shape[d] = in.varint();
            elements *= shape[d];
            if (elements > Integer.MAX_VALUE) {
                throw new IOException("tensor " + key + ": impossible shape");
            }
        }
        declared[0] += elements;
        if (declared[0] > budget) {
            throw new IOException("tensor " + key + " declares " + elements + " values, more than a file of this"
                    + " length can hold");
        }
        int n = (int) elements;
        int kindCode = in.u8();
        if (kindCode >= QuantizedTensor.Kind.values().length) {
            throw new IOException("tensor " + key + ": unknown kind " + kindCode);
        }
        QuantizedTensor.Kind kind = QuantizedTensor.Kind.values()[kindCode];
        if (kind == QuantizedTensor.Kind.FLOAT) {
            return QuantizedTensor.ofFloats(key, shape, readFloats(in, n));
        }
        int bits = in.u8();
        int axis = in.i8();
        if (bits < 1 || bits > 8 || axis >= rank || axis < -1 || kind == QuantizedTensor.Kind.BINARY && bits != 1) {
            throw new IOException("tensor " + key + ": " + bits + " bits, channel axis " + axis);
        }
        int channels = axis < 0 ? 1 : (int) shape[axis];
        float[] scales = null;
        int[] zeroPoints = null;
        float[] codebook = null;
        switch (kind) {
            case LINEAR: {
                boolean symmetric = in.u8() == 1;
                scales = readFloats(in, channels);
                zeroPoints = new int[channels];
                if (!symmetric) {
                    in.need(2L * channels, "zero points");
                    for (int c = 0; c < channels; c++) {
                        zeroPoints[c] = in.i16();
                    }
                }
                break;
            }
            case KMEANS:
                codebook = readFloats(in, 1 << bits);
                break;
            case BINARY:
                scales = readFloats(in, channels);
                break;
            default:
                throw new IllegalStateException();
        }
        int stored = in.varint();
        int layout = in.u8();
        if (layout > SPARSE_F_ORDER) {
            throw new IOException("tensor " + key + ": unknown layout " + layout);
        }
        boolean sparse = layout != DENSE_LAYOUT;
        if (stored > n || (!sparse && stored != n)) {
            throw new IOException("tensor " + key + ": " + stored + " stored values of " + n);
        }
        int[] positions = null;
        if (sparse) {
            int entries = in.varint();
            int indexBits = in.u8();
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

    private static int[] readStream(Source in, int count, int width) throws IOException {
        int coding = in.u8();
        int length = in.varint();
        // a symbol takes at least one bit, so the stream must hold count bits (beyond Huffman's table)
        if ((long) count > 8L * length) {
            throw new IOException("a stream of " + length + " bytes cannot hold " + count + " symbols");
        }
        byte[] bytes = in.bytes(length);
        Bits.Reader bits = new Bits.Reader(bytes);
        int[] symbols = new int[count];
        if (coding == CODING_HUFFMAN) {
            Huffman code = Huffman.readTable(bits, 1 << width);
            for (int k = 0; k < count; k++) {
                symbols[k] = code.decode(bits);
            }
        } else if (coding == CODING_FIXED) {
            if ((long) count * width > 8L * length) {
                throw new IOException("a stream of " + length + " bytes cannot hold " + count + " symbols of " + width
                        + " bits");
            }
            for (int k = 0; k < count; k++) {
                symbols[k] = bits.read(width);
            }
        } else {
            throw new IOException("unknown stream coding " + coding);
        }
        return symbols;
    }

    private static float[] readFloats(Source in, int n) throws IOException {
        int precision = in.u8();
        if (precision != FLOAT16 && precision != FLOAT32) {
            throw new IOException("unknown float precision " + precision);
        }
        in.need((long) n * (precision == FLOAT16 ? 2 : 4), n + " floats");
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = precision == FLOAT16 ? Half.value(in.u16()) : in.f32();
        }
        return v;
    }

    /** The body of a checked file, read with every size checked against what is left. */
    private static final class Source {
        private final byte[] bytes;
        private final int end;
        int position;

        Source(byte[] bytes, int start, int end) {
            this.bytes = bytes;
            this.position = start;
            this.end = end;
        }

        int remaining() {
            return end - position;
        }

        void need(long n, String what) throws IOException {
            if (n > remaining()) {
                throw new IOException(what + " need " + n + " bytes, " + remaining() + " left");
            }
        }

        /** A count of things that take at least {@code minBytes} each. */
        int count(String what, int minBytes) throws IOException {
            int n = varint();
            need((long) n * minBytes, n + " " + what);
            return n;
        }

        int u8() throws IOException {
            need(1, "a byte");
            return bytes[position++] & 0xFF;
        }

        int i8() throws IOException {
            need(1, "a byte");
            return bytes[position++];
        }

        int u16() throws IOException {
            need(2, "a 16-bit value");
            int v = (bytes[position] & 0xFF) << 8 | bytes[position + 1] & 0xFF;
            position += 2;
            return v;
        }

        int i16() throws IOException {
            return (short) u16();
        }

        float f32() throws IOException {
            need(4, "a float");
            int v = ByteBuffer.wrap(bytes, position, 4).getInt();
            position += 4;
            return Float.intBitsToFloat(v);
        }

        byte[] bytes(int n) throws IOException {
            need(n, n + " bytes");
            byte[] out = Arrays.copyOfRange(bytes, position, position + n);
            position += n;
            return out;
        }

        int varint() throws IOException {
            long value = 0;
            for (int shift = 0; shift < 35; shift += 7) {
                int b = u8();
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
    }
}
