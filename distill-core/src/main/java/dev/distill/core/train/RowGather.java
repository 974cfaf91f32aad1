package dev.distill.core.train;

import java.nio.FloatBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Copies chosen rows of a matrix into a batch matrix: the Trainer's gather of each shuffled batch.
 *
 * <p>Why not only {@code Nd4j.pullRows}: that op builds its tensor-along-dimension shape information on
 * every call, and with a small network trained on one thread the gather was 10-18% of the Trainer's sampled
 * step (Java Flight Recorder, the 784-32-10 student, {@code distill bench}). Float matrices laid out row by
 * row are copied here straight between the two native buffers, one bulk copy per row; anything else goes
 * through {@code pullRows}. Both give the same values.
 */
final class RowGather {

    private RowGather() {
    }

    /** {@code rows} of {@code source} ({@code [n, d]}) into {@code into} ({@code [rows.length, d]}), returned. */
    static INDArray into(INDArray source, INDArray into, int[] rows) {
        if (!direct(source, into) || into.rows() != rows.length) {
            return Nd4j.pullRows(source, into, 1, rows);
        }
        int d = (int) source.columns();
        FloatBuffer from = source.data().asNioFloat();
        FloatBuffer to = into.data().asNioFloat();
        long base = source.offset();
        long toBase = into.offset();
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] < 0 || rows[i] >= source.rows()) {
                throw new IndexOutOfBoundsException("row " + rows[i] + " of " + source.rows());
            }
            int start = (int) (base + (long) rows[i] * d);
            from.limit(start + d).position(start);
            to.position((int) (toBase + (long) i * d));
            to.put(from);
        }
        return into;
    }

    /** Whether rows of {@code source} are copied into {@code into} buffer to buffer (else by {@code pullRows}). */
    static boolean direct(INDArray source, INDArray into) {
        return rowMajorFloat(source) && rowMajorFloat(into) && into.columns() == source.columns();
    }

    /** Float, rows stored one after the other (c order, unit column stride), addressable by an int index. */
    private static boolean rowMajorFloat(INDArray a) {
        return a.dataType() == DataType.FLOAT && a.rank() == 2 && a.ordering() == 'c'
                && (a.columns() == 1 || a.stride(1) == 1) && (a.rows() == 1 || a.stride(0) == a.columns())
                && a.data().length() <= Integer.MAX_VALUE;
    }
}
