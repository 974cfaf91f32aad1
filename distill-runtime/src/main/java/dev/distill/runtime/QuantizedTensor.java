package dev.distill.runtime;

import java.util.Arrays;

/**
 * One parameter tensor as stored: integer codes at {@code bits} bits and what turns them back into
 * values. Values are in c order of the tensor's shape (the training framework's layout of that layer's
 * parameter); {@code positions} lists the flat indices that are stored (ascending), every other value
 * being exactly zero (the pruning stage's zeros), or is null when every value is stored.
 *
 * <ul>
 * <li>{@link Kind#LINEAR}: value = scale[c] × (code − zeroPoint[c]), codes in [−2^(bits−1), 2^(bits−1) − 1];
 * <li>{@link Kind#KMEANS}: value = codebook[code];
 * <li>{@link Kind#BINARY}: value = ±scale[c] (code 1 is +);
 * <li>{@link Kind#FLOAT}: {@code floats} as they are (biases, batch norm).
 * </ul>
 * c is the channel of a value: its index along {@code channelAxis} (−1: one channel for the tensor).
 * Arrays are the caller's: treat them as read-only (a plain class, not a record, so that the runtime
 * compiles for Java 11).
 */
public final class QuantizedTensor {

    /** How a tensor's values are represented. */
    public enum Kind { FLOAT, LINEAR, KMEANS, BINARY }

    private final String key;
    private final long[] shape;
    private final Kind kind;
    private final int bits;
    private final int channelAxis;
    private final float[] scales;
    private final int[] zeroPoints;
    private final float[] codebook;
    private final int[] positions;
    private final int[] codes;
    private final float[] floats;

    public QuantizedTensor(String key, long[] shape, Kind kind, int bits, int channelAxis, float[] scales,
            int[] zeroPoints, float[] codebook, int[] positions, int[] codes, float[] floats) {
        this.key = key;
        this.shape = shape;
        this.kind = kind;
        this.bits = bits;
        this.channelAxis = channelAxis;
        this.scales = scales;
        this.zeroPoints = zeroPoints;
        this.codebook = codebook;
        this.positions = positions;
        this.codes = codes;
        this.floats = floats;
    }

    /** A tensor kept as float32. */
    public static QuantizedTensor ofFloats(String key, long[] shape, float[] values) {
        return new QuantizedTensor(key, shape, Kind.FLOAT, 32, -1, null, null, null, null, null, values.clone());
    }

    public String key() {
        return key;
    }

    public long[] shape() {
        return shape;
    }

    public Kind kind() {
        return kind;
    }

    public int bits() {
        return bits;
    }

    public int channelAxis() {
        return channelAxis;
    }

    public float[] scales() {
        return scales;
    }

    public int[] zeroPoints() {
        return zeroPoints;
    }

    public float[] codebook() {
        return codebook;
    }

    public int[] positions() {
        return positions;
    }

    public int[] codes() {
        return codes;
    }

    public float[] floats() {
        return floats;
    }

    /** Number of values the tensor has (stored or zero). */
    public int size() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return (int) n;
    }

    /** Number of values stored. */
    public int stored() {
        return kind == Kind.FLOAT ? floats.length : codes.length;
    }

    public int channels() {
        return channelAxis < 0 ? 1 : (int) shape[channelAxis];
    }

    /** The channel of flat (c-order) index {@code i}. */
    public int channelOf(int i) {
        return channelOf(shape, channelAxis, i);
    }

    public static int channelOf(long[] shape, int axis, int i) {
        if (axis < 0) {
            return 0;
        }
        long stride = 1;
        for (int d = axis + 1; d < shape.length; d++) {
            stride *= shape[d];
        }
        return (int) ((i / stride) % shape[axis]);
    }

    /** The flat index of stored value {@code k}. */
    public int position(int k) {
        return positions == null ? k : positions[k];
    }

    /** The value stored code {@code code} stands for, at flat index {@code index}. */
    public float value(int code, int index) {
        switch (kind) {
            case LINEAR: {
                int c = channelOf(index);
                return scales[c] * (code - zeroPoints[c]);
            }
            case KMEANS:
                return codebook[code];
            case BINARY: {
                float s = scales[channelOf(index)];
                return code == 1 ? s : -s;
            }
            default:
                throw new IllegalStateException(kind.name());
        }
    }

    /** All values, c order, zeros where nothing is stored. */
    public float[] dequantize() {
        if (kind == Kind.FLOAT) {
            return floats.clone();
        }
        float[] v = new float[size()];
        for (int k = 0; k < codes.length; k++) {
            int i = position(k);
            v[i] = value(codes[k], i);
        }
        return v;
    }

    /** The same tensor with another codebook (k-means after centroid fine-tuning). */
    public QuantizedTensor withCodebook(float[] newCodebook) {
        return new QuantizedTensor(key, shape, kind, bits, channelAxis, scales, zeroPoints, newCodebook.clone(),
                positions, codes, floats);
    }

    /** The same tensor with per-channel scales {@code newScales} (a batch norm folded into linear codes). */
    QuantizedTensor withScales(float[] newScales) {
        return new QuantizedTensor(key, shape, kind, bits, channelAxis, newScales, zeroPoints, codebook, positions,
                codes, floats);
    }

    /** Bit-exact equality of everything stored. */
    public boolean sameAs(QuantizedTensor o) {
        return key.equals(o.key) && Arrays.equals(shape, o.shape) && kind == o.kind && bits == o.bits
                && channelAxis == o.channelAxis && Arrays.equals(scales, o.scales)
                && Arrays.equals(zeroPoints, o.zeroPoints) && Arrays.equals(codebook, o.codebook)
                && Arrays.equals(positions, o.positions) && Arrays.equals(codes, o.codes)
                && Arrays.equals(floats, o.floats);
    }

    @Override
    public String toString() {
        return key + " " + Arrays.toString(shape) + " " + kind + " " + bits + " bits";
    }
}
