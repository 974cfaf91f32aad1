package dev.distill.models.nd4j;

import java.nio.FloatBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Copies between ND4J's float arrays and Java's, one bulk copy each way (no element-wise calls, no ND4J op where the
 * values already lie in order), and reusable working arrays: for what the project computes in Java on ND4J's
 * arrays (the layers of {@code Networks.speedUpTraining}, the distillation losses).
 */
public final class JavaArrays {

    private JavaArrays() {
    }

    /** {@code array}'s first {@code length} values in C order, into {@code into} when it is large enough. */
    public static float[] read(INDArray array, float[] into, int length) {
        INDArray c = contiguous(array) ? array : array.dup('c');
        float[] values = into != null && into.length >= length ? into : new float[length];
        FloatBuffer buffer = c.data().asNioFloat();
        buffer.position(Math.toIntExact(c.offset()));
        buffer.get(values, 0, length);
        return values;
    }

    /** Writes the first {@code target.length()} values into {@code target}, whose values lie in C order. */
    public static void write(float[] values, INDArray target) {
        if (!contiguous(target)) {
            throw new IllegalStateException("expected an array whose values lie one after the other in C order, got "
                    + target.shapeInfoToString());
        }
        FloatBuffer buffer = target.data().asNioFloat();
        buffer.position(Math.toIntExact(target.offset()));
        buffer.put(values, 0, Math.toIntExact(target.length()));
    }

    /** Whether {@code array}'s values lie in C order one after the other in its buffer. */
    public static boolean contiguous(INDArray array) {
        long expected = 1;
        for (int d = array.rank() - 1; d >= 0; d--) {
            if (array.size(d) > 1 && array.stride(d) != expected) {
                return false;
            }
            expected *= array.size(d);
        }
        return true;
    }

    /** {@code array} when it holds {@code length} values, else a new one that does. */
    public static float[] sized(float[] array, int length) {
        return array.length >= length ? array : new float[length];
    }

    /** {@code array} when it holds {@code count} arrays of {@code length} values, else new ones. */
    public static float[][] planes(float[][] array, int count, int length) {
        if (array.length >= count && (count == 0 || array[0].length >= length)) {
            return array;
        }
        return new float[count][length];
    }
}
