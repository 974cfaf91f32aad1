package dev.distill.runtime;

import java.util.Arrays;

/**
 * The matrix products of the float and int8 paths, in plain Java written so that HotSpot's C2 vectorises
 * them (see {@link #multiply(float[], int, int, float[][], int, float[], float[], int)}). The right-hand
 * matrix is an array of rows, so that each row is indexed from 0.
 */
final class Gemm {

    private Gemm() {
    }

    /**
     * {@code y[yOff + o·n + p] = bias[o] + Σ_j w[o·k + j] · b[j][p]} for o in [0, rows), j in [0, k), p in
     * [0, n): {@code w} row-major [rows][k], {@code b} as k rows of n. One output row at a time, four rows of
     * {@code b} per pass: every array in the inner loop indexed by the loop variable alone, which is what
     * HotSpot 17's C2 needs to vectorise (an offset added to one array's index, a body of more than about
     * four multiply-adds per array element, or two output rows per pass, and it falls back to scalar code;
     * measured: this 1 × 4 form 9-16 GMAC/s, the same loop with offsets or as a 4 × 4 tile 0.7-1.4, at load
     * 8 on 2 cores). A group of four weights all zero (pruned) is skipped.
     */
    static void multiply(float[] w, int rows, int k, float[][] b, int n, float[] bias, float[] y, int yOff) {
        float[] acc = new float[n];
        for (int o = 0; o < rows; o++) {
            Arrays.fill(acc, bias[o]);
            int r = o * k;
            int j = 0;
            for (; j + 3 < k; j += 4) {
                float w0 = w[r + j];
                float w1 = w[r + j + 1];
                float w2 = w[r + j + 2];
                float w3 = w[r + j + 3];
                if (w0 == 0 && w1 == 0 && w2 == 0 && w3 == 0) {
                    continue;
                }
                float[] x0 = b[j];
                float[] x1 = b[j + 1];
                float[] x2 = b[j + 2];
                float[] x3 = b[j + 3];
                for (int p = 0; p < n; p++) {
                    acc[p] += w0 * x0[p] + w1 * x1[p] + w2 * x2[p] + w3 * x3[p];
                }
            }
            for (; j < k; j++) {
                float w0 = w[r + j];
                float[] x0 = b[j];
                for (int p = 0; p < n; p++) {
                    acc[p] += w0 * x0[p];
                }
            }
            System.arraycopy(acc, 0, y, yOff + o * n, n);
        }
    }

    /**
     * The same product in ints (the int8 path's centred codes into int32 accumulators): the same loop, which
     * C2 vectorises on int arrays as on float ones; integer sums are exact in any order.
     */
    static void multiply(int[] w, int rows, int k, int[][] b, int n, int[] bias, int[] y, int yOff) {
        int[] acc = new int[n];
        for (int o = 0; o < rows; o++) {
            Arrays.fill(acc, bias[o]);
            int r = o * k;
            int j = 0;
            for (; j + 3 < k; j += 4) {
                int w0 = w[r + j];
                int w1 = w[r + j + 1];
                int w2 = w[r + j + 2];
                int w3 = w[r + j + 3];
                if (w0 == 0 && w1 == 0 && w2 == 0 && w3 == 0) {
                    continue;
                }
                int[] x0 = b[j];
                int[] x1 = b[j + 1];
                int[] x2 = b[j + 2];
                int[] x3 = b[j + 3];
                for (int p = 0; p < n; p++) {
                    acc[p] += w0 * x0[p] + w1 * x1[p] + w2 * x2[p] + w3 * x3[p];
                }
            }
            for (; j < k; j++) {
                int w0 = w[r + j];
                int[] x0 = b[j];
                for (int p = 0; p < n; p++) {
                    acc[p] += w0 * x0[p];
                }
            }
            System.arraycopy(acc, 0, y, yOff + o * n, n);
        }
    }

    /**
     * {@code acc[o] += Σ_j value[j] · rows[at[j]][o]} over the {@code n} listed inputs, for every output o: a row of
     * weights per input, four inputs per pass, the loop over the outputs contiguous and every array in it
     * indexed by the loop variable alone, as the float path's dense loop (which C2 vectorises); the inputs not
     * listed (zero) cost nothing. Integer sums are exact in any order.
     */
    static void accumulate(int[][] rows, int[] value, int[] at, int n, int[] acc) {
        int m = acc.length;
        int j = 0;
        for (; j + 3 < n; j += 4) {
            int x0 = value[j];
            int x1 = value[j + 1];
            int x2 = value[j + 2];
            int x3 = value[j + 3];
            int[] w0 = rows[at[j]];
            int[] w1 = rows[at[j + 1]];
            int[] w2 = rows[at[j + 2]];
            int[] w3 = rows[at[j + 3]];
            for (int o = 0; o < m; o++) {
                acc[o] += x0 * w0[o] + x1 * w1[o] + x2 * w2[o] + x3 * w3[o];
            }
        }
        for (; j < n; j++) {
            int x0 = value[j];
            int[] w0 = rows[at[j]];
            for (int o = 0; o < m; o++) {
                acc[o] += x0 * w0[o];
            }
        }
    }

    /** {@code x}, a [rows][n] matrix flattened row-major from {@code offset}, as an array of rows. */
    static float[][] rows(float[] x, int offset, int rows, int n) {
        float[][] r = new float[rows][];
        for (int j = 0; j < rows; j++) {
            r[j] = Arrays.copyOfRange(x, offset + j * n, offset + (j + 1) * n);
        }
        return r;
    }

    /** {@link #rows(float[], int, int, int)} for ints. */
    static int[][] rows(int[] x, int offset, int rows, int n) {
        int[][] r = new int[rows][];
        for (int j = 0; j < rows; j++) {
            r[j] = Arrays.copyOfRange(x, offset + j * n, offset + (j + 1) * n);
        }
        return r;
    }
}
