package dev.distill.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** The Trainer's row gather gives what {@code pullRows} gives, on whole matrices, row ranges and other layouts. */
class RowGatherTest {

    private static final int[] ROWS = {7, 0, 39, 7, 12};

    private static void assertGathersAsPullRows(INDArray source, boolean direct) {
        INDArray into = Nd4j.create(source.dataType(), ROWS.length, source.columns());
        assertEquals(direct, RowGather.direct(source, into));
        assertSame(into, RowGather.into(source, into, ROWS));
        assertEquals(Nd4j.pullRows(source, 1, ROWS), into);
    }

    @Test
    void aWholeFloatMatrixGathersAsPullRows() {
        Nd4j.getRandom().setSeed(3);
        assertGathersAsPullRows(Nd4j.rand(DataType.FLOAT, 40, 13), true);
    }

    @Test
    void aRowRangeOfALargerMatrixIsReadFromItsOffset() {
        Nd4j.getRandom().setSeed(4);
        INDArray all = Nd4j.rand(DataType.FLOAT, 100, 9);
        assertGathersAsPullRows(all.get(NDArrayIndex.interval(30, 70), NDArrayIndex.all()), true);
    }

    @Test
    void otherLayoutsAndTypesGoThroughPullRows() {
        Nd4j.getRandom().setSeed(5);
        assertGathersAsPullRows(Nd4j.rand(DataType.FLOAT, 'f', 40, 6), false);
        assertGathersAsPullRows(Nd4j.rand(DataType.DOUBLE, 40, 6), false);
        assertGathersAsPullRows(Nd4j.rand(DataType.FLOAT, 40, 12).get(NDArrayIndex.all(), NDArrayIndex.interval(2, 8)),
                false);
    }

    @Test
    void aRowOutsideTheMatrixIsRefused() {
        INDArray source = Nd4j.zeros(DataType.FLOAT, 10, 3);
        INDArray into = Nd4j.create(DataType.FLOAT, 1, 3);
        assertThrows(IndexOutOfBoundsException.class, () -> RowGather.into(source, into, new int[] {10}));
    }
}
