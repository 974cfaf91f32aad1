package dev.distill.runtime;

/**
 * The sliding window of a convolution or pooling layer: kernel, stride, padding and dilation along
 * height and width, and whether DL4J's "same" mode sets the padding (output = ceil(input / stride),
 * the extra row or column at the bottom or right) instead of {@code padH}/{@code padW}.
 */
public final class Window {

    final int kernelH;
    final int kernelW;
    final int strideH;
    final int strideW;
    final int padH;
    final int padW;
    final int dilationH;
    final int dilationW;
    final boolean same;

    public Window(int kernelH, int kernelW, int strideH, int strideW, int padH, int padW, int dilationH,
            int dilationW, boolean same) {
        this.kernelH = kernelH;
        this.kernelW = kernelW;
        this.strideH = strideH;
        this.strideW = strideW;
        this.padH = padH;
        this.padW = padW;
        this.dilationH = dilationH;
        this.dilationW = dilationW;
        this.same = same;
    }

    /** Output length along one axis, as DL4J computes it (0 or less: the window does not fit). */
    static long outputLength(long size, int kernel, int stride, int pad, int dilation, boolean same) {
        if (same) {
            return (size + stride - 1) / stride;
        }
        long effective = (long) (kernel - 1) * dilation + 1;
        return (size + 2L * pad - effective) / stride + 1;
    }

    public int kernelH() {
        return kernelH;
    }

    public int kernelW() {
        return kernelW;
    }

    public int strideH() {
        return strideH;
    }

    public int strideW() {
        return strideW;
    }

    public int dilationH() {
        return dilationH;
    }

    public int dilationW() {
        return dilationW;
    }

    /**
     * The padding (top, left, bottom, right) this window adds around an {@code inH} × {@code inW} input, as
     * the runtime applies it: same mode pads to ceil(input / stride) with the odd row or column at the
     * bottom or right; otherwise the explicit padding on every side (the output floored, so the last
     * rows or columns of padding may go unread).
     */
    public int[] padding(long inH, long inW) {
        long outH = outputHeight(inH);
        long outW = outputWidth(inW);
        int top = topPadding(inH, outH);
        int left = leftPadding(inW, outW);
        if (!same) {
            return new int[] {top, left, padH, padW};
        }
        long bottom = Math.max(0, (outH - 1) * strideH + (long) (kernelH - 1) * dilationH + 1 - inH) - top;
        long right = Math.max(0, (outW - 1) * strideW + (long) (kernelW - 1) * dilationW + 1 - inW) - left;
        return new int[] {top, left, (int) bottom, (int) right};
    }

    /** Output height for an input {@code in} rows high, as DL4J computes it. */
    public long outputHeight(long in) {
        return outputLength(in, kernelH, strideH, padH, dilationH, same);
    }

    /** Output width for an input {@code in} columns wide. */
    public long outputWidth(long in) {
        return outputLength(in, kernelW, strideW, padW, dilationW, same);
    }

    /** The padding before the first row (top) in same mode: DL4J puts the odd one at the bottom. */
    int topPadding(long in, long out) {
        if (!same) {
            return padH;
        }
        long effective = (long) (kernelH - 1) * dilationH + 1;
        return (int) Math.max(0, ((out - 1) * strideH + effective - in) / 2);
    }

    int leftPadding(long in, long out) {
        if (!same) {
            return padW;
        }
        long effective = (long) (kernelW - 1) * dilationW + 1;
        return (int) Math.max(0, ((out - 1) * strideW + effective - in) / 2);
    }

    @Override
    public String toString() {
        return kernelH + "x" + kernelW + " stride " + strideH + "x" + strideW + (same ? " same"
                : " pad " + padH + "x" + padW) + (dilationH * dilationW != 1 ? " dilation " + dilationH + "x"
                + dilationW : "");
    }
}
