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
     * {@code acc[o] += Σ_j code_j · rows[position_j][o]} over the {@code n} inputs of {@code listed} (position and
     * centred code packed by {@link Int8Path.Values#listed}), for every output o, in integers: {@code rows} (a row
     * of weights per input) holds integers, and the products are
     * summed in float, {@code run} listed inputs at a time ({@link #exactRun}), so that every partial sum is an
     * integer below 2^24, which float holds exactly; each run's sums then go into the int32 accumulators. The
     * result is the integers of any other order. Why float: HotSpot 17's C2 vectorises this loop on int arrays
     * too, but a vector int multiply costs about what four float multiply-adds do, and it has no vector form
     * for the narrower int8 or int16 products; the loop is the float path's dense loop (four inputs per pass,
     * every array indexed by the loop variable alone), and the inputs not listed (zero) cost nothing.
     */
    static void accumulate(float[][] rows, int[] listed, int n, int run, int[] acc) {
        int m = acc.length;
        float[] y = new float[m];
        for (int start = 0; start < n; start += run) {
            int end = Math.min(n, start + run);
            int j = start;
            for (; j + 3 < end; j += 4) {
                int l0 = listed[j];
                int l1 = listed[j + 1];
                int l2 = listed[j + 2];
                int l3 = listed[j + 3];
                float x0 = Int8Path.Values.listedCode(l0);
                float x1 = Int8Path.Values.listedCode(l1);
                float x2 = Int8Path.Values.listedCode(l2);
                float x3 = Int8Path.Values.listedCode(l3);
                float[] w0 = rows[Int8Path.Values.listedPosition(l0)];
                float[] w1 = rows[Int8Path.Values.listedPosition(l1)];
                float[] w2 = rows[Int8Path.Values.listedPosition(l2)];
                float[] w3 = rows[Int8Path.Values.listedPosition(l3)];
                for (int o = 0; o < m; o++) {
                    y[o] += x0 * w0[o] + x1 * w1[o] + x2 * w2[o] + x3 * w3[o];
                }
            }
            for (; j < end; j++) {
                float x0 = Int8Path.Values.listedCode(listed[j]);
                float[] w0 = rows[Int8Path.Values.listedPosition(listed[j])];
                for (int o = 0; o < m; o++) {
                    y[o] += x0 * w0[o];
                }
            }
            for (int o = 0; o < m; o++) {
                acc[o] += (int) y[o];
                y[o] = 0;
            }
        }
    }

    /**
     * How many products of integers at most {@code maxW} and {@code maxX} in magnitude float sums exactly: every
     * partial sum of that many is an integer of magnitude at most 2^24 (at least 258 for int8 codes minus their
     * zero points, at most 255 each).
     */
    static int exactRun(int maxW, int maxX) {
        long largest = (long) maxW * maxX;
        return largest == 0 ? Integer.MAX_VALUE : (int) Math.max(1, Math.min(Integer.MAX_VALUE, (1L << 24) / largest));
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
