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

    long outputHeight(long in) {
        return outputLength(in, kernelH, strideH, padH, dilationH, same);
    }

    long outputWidth(long in) {
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
