package dev.distill.runtime;

import java.util.Arrays;

/**
 * The float path's matrix product, in plain Java written so that HotSpot's C2 vectorises it: every inner
 * loop runs along contiguous float arrays with the weights held in locals. A 4 × 4 micro-tile (four
 * output rows, four terms of the sum per pass) loads each input row once for four outputs and each
 * accumulator once for four terms, which measured 1.1-1.3x faster than 4 × 1 or 4 × 2 tiles and 1.5-3x
 * faster than one output row at a time (throw-away timing, the layer shapes of the teacher CNN and the
 * mobile student, in turns, median of 15, load 8 on 2 cores). The output columns go in blocks that
 * stay in the first-level cache.
 */
final class Gemm {

    /** Output columns per block. */
    static final int BLOCK = 64;
    /** Rows of the right-hand matrix per panel: a panel of DEPTH × BLOCK floats (4 KB) stays in L1. */
    static final int DEPTH = 16;

    private Gemm() {
    }

    /**
     * {@code y[yOff + o·n + p] = bias[biasOff + o] + Σ_k w[wOff + o·k + j] · b[bOff + j·n + p]} for o in [0, rows),
     * j in [0, k), p in [0, n): {@code w} row-major [rows][k], {@code b} row-major [k][n]. Blocked so that a
     * panel of {@code b} ({@link #DEPTH} rows × {@link #BLOCK} columns) stays in the first-level cache while
     * every output row reads it.
     */
    static void multiply(float[] w, int wOff, int rows, int k, float[] b, int bOff, int n, float[] bias, int biasOff,
            float[] y, int yOff) {
        int block = Math.min(BLOCK, n);
        float[] a0 = new float[block];
        float[] a1 = new float[block];
        float[] a2 = new float[block];
        float[] a3 = new float[block];
        for (int p0 = 0; p0 < n; p0 += block) {
            int m = Math.min(block, n - p0);
            for (int j0 = 0; j0 < k; j0 += DEPTH) {
                int j1 = Math.min(k, j0 + DEPTH);
                boolean first = j0 == 0;
                int o = 0;
                for (; o + 3 < rows; o += 4) {
                    int y0 = yOff + o * n + p0;
                    load(a0, y, y0, m, first, bias[biasOff + o]);
                    load(a1, y, y0 + n, m, first, bias[biasOff + o + 1]);
                    load(a2, y, y0 + 2 * n, m, first, bias[biasOff + o + 2]);
                    load(a3, y, y0 + 3 * n, m, first, bias[biasOff + o + 3]);
                    int r0 = wOff + o * k;
                    int r1 = r0 + k;
                    int r2 = r1 + k;
                    int r3 = r2 + k;
                    int j = j0;
                    for (; j + 3 < j1; j += 4) {
                        float w00 = w[r0 + j];
                        float w01 = w[r0 + j + 1];
                        float w02 = w[r0 + j + 2];
                        float w03 = w[r0 + j + 3];
                        float w10 = w[r1 + j];
                        float w11 = w[r1 + j + 1];
                        float w12 = w[r1 + j + 2];
                        float w13 = w[r1 + j + 3];
                        float w20 = w[r2 + j];
                        float w21 = w[r2 + j + 1];
                        float w22 = w[r2 + j + 2];
                        float w23 = w[r2 + j + 3];
                        float w30 = w[r3 + j];
                        float w31 = w[r3 + j + 1];
                        float w32 = w[r3 + j + 2];
                        float w33 = w[r3 + j + 3];
                        int c0 = bOff + j * n + p0;
                        int c1 = c0 + n;
                        int c2 = c1 + n;
                        int c3 = c2 + n;
                        for (int p = 0; p < m; p++) {
                            float x0 = b[c0 + p];
                            float x1 = b[c1 + p];
                            float x2 = b[c2 + p];
                            float x3 = b[c3 + p];
                            a0[p] += w00 * x0 + w01 * x1 + w02 * x2 + w03 * x3;
                            a1[p] += w10 * x0 + w11 * x1 + w12 * x2 + w13 * x3;
                            a2[p] += w20 * x0 + w21 * x1 + w22 * x2 + w23 * x3;
                            a3[p] += w30 * x0 + w31 * x1 + w32 * x2 + w33 * x3;
                        }
                    }
                    for (; j < j1; j++) {
                        float w0 = w[r0 + j];
                        float w1 = w[r1 + j];
                        float w2 = w[r2 + j];
                        float w3 = w[r3 + j];
                        int c = bOff + j * n + p0;
                        for (int p = 0; p < m; p++) {
                            float x = b[c + p];
                            a0[p] += w0 * x;
                            a1[p] += w1 * x;
                            a2[p] += w2 * x;
                            a3[p] += w3 * x;
                        }
                    }
                    System.arraycopy(a0, 0, y, y0, m);
                    System.arraycopy(a1, 0, y, y0 + n, m);
                    System.arraycopy(a2, 0, y, y0 + 2 * n, m);
                    System.arraycopy(a3, 0, y, y0 + 3 * n, m);
                }
                for (; o < rows; o++) {
                    int y0 = yOff + o * n + p0;
                    load(a0, y, y0, m, first, bias[biasOff + o]);
                    int r = wOff + o * k;
                    for (int j = j0; j < j1; j++) {
                        float w0 = w[r + j];
                        int c = bOff + j * n + p0;
                        for (int p = 0; p < m; p++) {
                            a0[p] += w0 * b[c + p];
                        }
                    }
                    System.arraycopy(a0, 0, y, y0, m);
                }
            }
        }
    }

    /** An accumulator row: the bias on the first panel, else what the earlier panels summed into {@code y}. */
    private static void load(float[] a, float[] y, int at, int m, boolean first, float bias) {
        if (first) {
            Arrays.fill(a, 0, m, bias);
        } else {
            System.arraycopy(y, at, a, 0, m);
        }
    }

    /**
     * The same product in ints (the int8 path's centred codes into int32 accumulators): the same loops, which
     * C2 vectorises on int arrays as on float ones; integer sums are exact in any order.
     */
    static void multiply(int[] w, int wOff, int rows, int k, int[] b, int bOff, int n, int[] bias, int biasOff,
            int[] y, int yOff) {
        int block = Math.min(BLOCK, n);
        int[] a0 = new int[block];
        int[] a1 = new int[block];
        int[] a2 = new int[block];
        int[] a3 = new int[block];
        for (int p0 = 0; p0 < n; p0 += block) {
            int m = Math.min(block, n - p0);
            for (int j0 = 0; j0 < k; j0 += DEPTH) {
                int j1 = Math.min(k, j0 + DEPTH);
                boolean first = j0 == 0;
                int o = 0;
                for (; o + 3 < rows; o += 4) {
                    int y0 = yOff + o * n + p0;
                    load(a0, y, y0, m, first, bias[biasOff + o]);
                    load(a1, y, y0 + n, m, first, bias[biasOff + o + 1]);
                    load(a2, y, y0 + 2 * n, m, first, bias[biasOff + o + 2]);
                    load(a3, y, y0 + 3 * n, m, first, bias[biasOff + o + 3]);
                    int r0 = wOff + o * k;
                    int r1 = r0 + k;
                    int r2 = r1 + k;
                    int r3 = r2 + k;
                    int j = j0;
                    for (; j + 3 < j1; j += 4) {
                        int w00 = w[r0 + j];
                        int w01 = w[r0 + j + 1];
                        int w02 = w[r0 + j + 2];
                        int w03 = w[r0 + j + 3];
                        int w10 = w[r1 + j];
                        int w11 = w[r1 + j + 1];
                        int w12 = w[r1 + j + 2];
                        int w13 = w[r1 + j + 3];
                        int w20 = w[r2 + j];
                        int w21 = w[r2 + j + 1];
                        int w22 = w[r2 + j + 2];
                        int w23 = w[r2 + j + 3];
                        int w30 = w[r3 + j];
                        int w31 = w[r3 + j + 1];
                        int w32 = w[r3 + j + 2];
                        int w33 = w[r3 + j + 3];
                        int c0 = bOff + j * n + p0;
                        int c1 = c0 + n;
                        int c2 = c1 + n;
                        int c3 = c2 + n;
                        for (int p = 0; p < m; p++) {
                            int x0 = b[c0 + p];
                            int x1 = b[c1 + p];
                            int x2 = b[c2 + p];
                            int x3 = b[c3 + p];
                            a0[p] += w00 * x0 + w01 * x1 + w02 * x2 + w03 * x3;
                            a1[p] += w10 * x0 + w11 * x1 + w12 * x2 + w13 * x3;
                            a2[p] += w20 * x0 + w21 * x1 + w22 * x2 + w23 * x3;
                            a3[p] += w30 * x0 + w31 * x1 + w32 * x2 + w33 * x3;
                        }
                    }
                    for (; j < j1; j++) {
                        int w0 = w[r0 + j];
                        int w1 = w[r1 + j];
                        int w2 = w[r2 + j];
                        int w3 = w[r3 + j];
                        int c = bOff + j * n + p0;
                        for (int p = 0; p < m; p++) {
                            int x = b[c + p];
                            a0[p] += w0 * x;
                            a1[p] += w1 * x;
                            a2[p] += w2 * x;
                            a3[p] += w3 * x;
                        }
                    }
                    System.arraycopy(a0, 0, y, y0, m);
                    System.arraycopy(a1, 0, y, y0 + n, m);
                    System.arraycopy(a2, 0, y, y0 + 2 * n, m);
                    System.arraycopy(a3, 0, y, y0 + 3 * n, m);
                }
                for (; o < rows; o++) {
                    int y0 = yOff + o * n + p0;
                    load(a0, y, y0, m, first, bias[biasOff + o]);
                    int r = wOff + o * k;
                    for (int j = j0; j < j1; j++) {
                        int w0 = w[r + j];
                        int c = bOff + j * n + p0;
                        for (int p = 0; p < m; p++) {
                            a0[p] += w0 * b[c + p];
                        }
                    }
                    System.arraycopy(a0, 0, y, y0, m);
                }
            }
        }
    }

    /** An accumulator row: the bias on the first panel, else what the earlier panels summed into {@code y}. */
    private static void load(int[] a, int[] y, int at, int m, boolean first, int bias) {
        if (first) {
            Arrays.fill(a, 0, m, bias);
        } else {
            System.arraycopy(y, at, a, 0, m);
        }
    }

}
