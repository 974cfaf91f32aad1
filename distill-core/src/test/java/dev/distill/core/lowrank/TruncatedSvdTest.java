package dev.distill.core.lowrank;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Truncated SVDs of matrices whose rank and singular values are known by construction. */
class TruncatedSvdTest {

    static double[][] random(int rows, int columns, Random random) {
        double[][] a = new double[rows][columns];
        for (double[] row : a) {
            for (int j = 0; j < columns; j++) {
                row[j] = random.nextGaussian();
            }
        }
        return a;
    }

    static double[][] times(double[][] a, double[][] b) {
        double[][] c = new double[a.length][b[0].length];
        for (int i = 0; i < a.length; i++) {
            for (int k = 0; k < b.length; k++) {
                for (int j = 0; j < b[0].length; j++) {
                    c[i][j] += a[i][k] * b[k][j];
                }
            }
        }
        return c;
    }

    /** {@code ‖a − b‖_F / ‖a‖_F}. */
    static double relativeError(double[][] a, double[][] b) {
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[0].length; j++) {
                diff += (a[i][j] - b[i][j]) * (a[i][j] - b[i][j]);
                norm += a[i][j] * a[i][j];
            }
        }
        return Math.sqrt(diff / norm);
    }

    /**
     * {@code Σ σ_k e_{p(k)} e_{q(k)}ᵀ}: a 6×5 matrix with singular values 4, 3, 2, 1 on distinct rows
     * and columns (so the singular vectors are coordinate vectors and the values are known exactly).
     */
    static double[][] knownSpectrum() {
        double[][] w = new double[6][5];
        w[2][4] = 4;
        w[0][1] = -3;
        w[5][0] = 2;
        w[3][3] = 1;
        return w;
    }

    @Test
    void aRankThreeMatrixIsReproducedExactlyAtRankThreeAndItsOtherSingularValuesAreZero() {
        Random random = new Random(7);
        double[][] w = times(random(12, 3, random), random(3, 7, random));
        TruncatedSvd svd = TruncatedSvd.of(w);
        assertEquals(7, svd.fullRank());
        double[] s = svd.singularValues();
        for (int k = 3; k < s.length; k++) {
            assertEquals(0, s[k] / s[0], 1e-12, "singular value " + k);
        }
        assertEquals(0, relativeError(w, times(svd.left(3), svd.right(3))), 1e-12);
        assertEquals(0, svd.relativeError(3), 1e-6);
        assertEquals(0, relativeError(w, times(svd.left(7), svd.right(7))), 1e-12, "full rank");
        assertEquals(3, svd.rankForEnergy(1.0), "all the energy is in three values");
    }

    @Test
    void truncationLosesTheTailOfTheSingularValues() {
        double[][] w = knownSpectrum();
        TruncatedSvd svd = TruncatedSvd.of(w);
        assertEquals(4, svd.singularValues()[0], 1e-12);
        assertEquals(3, svd.singularValues()[1], 1e-12);
        assertEquals(2, svd.singularValues()[2], 1e-12);
        assertEquals(1, svd.singularValues()[3], 1e-12);
        assertEquals(0, svd.singularValues()[4], 1e-12);
        // squared values 16, 9, 4, 1 of 30: rank 2 drops 4 + 1
        double expected = Math.sqrt(5.0 / 30);
        assertEquals(expected, svd.relativeError(2), 1e-12);
        assertEquals(expected, relativeError(w, times(svd.left(2), svd.right(2))), 1e-12, "measured on the product");
        assertEquals(Math.sqrt(1.0 / 30), relativeError(w, times(svd.left(3), svd.right(3))), 1e-12);
        assertEquals(25.0 / 30, svd.energyKept(2), 1e-12);
    }

    @Test
    void energyPicksTheSmallestRankThatKeepsIt() {
        TruncatedSvd svd = TruncatedSvd.of(knownSpectrum());
        // cumulative 16, 25, 29, 30 of 30: 0.533, 0.833, 0.967, 1
        assertEquals(1, svd.rankForEnergy(0.5));
        assertEquals(1, svd.rankForEnergy(16.0 / 30));
        assertEquals(2, svd.rankForEnergy(0.6));
        assertEquals(3, svd.rankForEnergy(0.9));
        assertEquals(4, svd.rankForEnergy(0.99));
        assertEquals(4, svd.rankForEnergy(1.0));
        assertThrows(IllegalArgumentException.class, () -> svd.rankForEnergy(0));
        assertThrows(IllegalArgumentException.class, () -> svd.left(6));
    }

    @Test
    void parameterRatioPicksTheLargestRankWithinTheBudget() {
        // the Fashion-MNIST student's first layer: 784 x 32 weights + 32 biases = 25,120 parameters;
        // rank r costs 816 r + 32, so half (12,560) allows r = floor(12,528 / 816) = 15 (12,272 parameters)
        LowRankFactorizer.LayerMatrix dense = new LowRankFactorizer.LayerMatrix(new double[0][0], 784, 32, 32);
        assertEquals(25_120, dense.params());
        assertEquals(15, dense.rankForParams(0.5));
        assertEquals(12_272, dense.params(15));
        // 16 filters of 3x3 over 8 channels: a 16 x 72 matrix + 16 biases = 1,168; half allows
        // r = floor((584 - 16) / 88) = 6, i.e. 6 x 88 + 16 = 544 parameters
        LowRankFactorizer.LayerMatrix conv = new LowRankFactorizer.LayerMatrix(new double[0][0], 16, 72, 16);
        assertEquals(6, conv.rankForParams(0.5));
        assertEquals(544, conv.params(6));
        assertEquals(1, conv.rankForParams(0.01), "at least rank 1");
        assertEquals(13, conv.rankForParams(1.0), "the whole budget: floor((1,168 - 16) / 88)");
    }
}
