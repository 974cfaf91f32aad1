package dev.distill.core.lowrank;

import org.apache.commons.math3.linear.MatrixUtils;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.linear.SingularValueDecomposition;

/**
 * The singular value decomposition {@code W = U·S·Vᵀ} of a weight matrix (m×n), in double precision
 * (Commons Math), and its rank-r truncations: {@code W ≈ (U_r·S_r)·V_rᵀ}, the best rank-r
 * approximation in the Frobenius norm (Eckart–Young), whose relative error is
 * {@code sqrt(Σ_{i≥r} s_i² / Σ s_i²)}.
 */
public final class TruncatedSvd {

    private final int rows;
    private final int columns;
    private final double[] singular;
    private final RealMatrix u;
    private final RealMatrix v;

    private TruncatedSvd(int rows, int columns, double[] singular, RealMatrix u, RealMatrix v) {
        this.rows = rows;
        this.columns = columns;
        this.singular = singular;
        this.u = u;
        this.v = v;
    }

    /** The decomposition of {@code w} (rows × columns, row-major). */
    public static TruncatedSvd of(double[][] w) {
        RealMatrix m = MatrixUtils.createRealMatrix(w);
        SingularValueDecomposition svd = new SingularValueDecomposition(m);
        return new TruncatedSvd(m.getRowDimension(), m.getColumnDimension(), svd.getSingularValues(), svd.getU(),
                svd.getV());
    }

    /** Singular values, descending; there are {@code min(m, n)} of them. */
    public double[] singularValues() {
        return singular.clone();
    }

    /** {@code min(m, n)}: the largest rank a factorization can have. */
    public int fullRank() {
        return singular.length;
    }

    /**
     * The smallest rank whose singular values keep at least {@code energy} of the sum of the squared
     * singular values (the squared Frobenius norm of {@code W}).
     */
    public int rankForEnergy(double energy) {
        if (!(energy > 0 && energy <= 1)) {
            throw new IllegalArgumentException("energy must be in (0, 1], got " + energy);
        }
        double total = 0;
        for (double s : singular) {
            total += s * s;
        }
        double kept = 0;
        for (int r = 1; r <= singular.length; r++) {
            kept += singular[r - 1] * singular[r - 1];
            // a relative tolerance: energy 1.0 must reach full rank despite rounding in the sum
            if (kept >= energy * total * (1 - 1e-12)) {
                return r;
            }
        }
        return singular.length;
    }

    /** Fraction of the squared singular values the first {@code rank} keep. */
    public double energyKept(int rank) {
        double total = 0;
        double kept = 0;
        for (int i = 0; i < singular.length; i++) {
            total += singular[i] * singular[i];
            kept += i < rank ? singular[i] * singular[i] : 0;
        }
        return total == 0 ? 1 : kept / total;
    }

    /** {@code ‖W − W_r‖_F / ‖W‖_F} of the rank-r truncation, from the singular values. */
    public double relativeError(int rank) {
        return Math.sqrt(Math.max(0, 1 - energyKept(rank)));
    }

    /** {@code U_r·S_r}: m × r, the first factor. */
    public double[][] left(int rank) {
        check(rank);
        double[][] a = new double[rows][rank];
        for (int i = 0; i < rows; i++) {
            for (int k = 0; k < rank; k++) {
                a[i][k] = u.getEntry(i, k) * singular[k];
            }
        }
        return a;
    }

    /** {@code V_rᵀ}: r × n, the second factor. */
    public double[][] right(int rank) {
        check(rank);
        double[][] b = new double[rank][columns];
        for (int k = 0; k < rank; k++) {
            for (int j = 0; j < columns; j++) {
                b[k][j] = v.getEntry(j, k);
            }
        }
        return b;
    }

    private void check(int rank) {
        if (rank < 1 || rank > singular.length) {
            throw new IllegalArgumentException("rank must be in [1, " + singular.length + "], got " + rank);
        }
    }
}
