package dev.distill.runner.data;

import dev.distill.core.data.LabeledData;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Reads an image/label pair of IDX files (the MNIST format), raw or gzipped.
 *
 * <p>Images: big-endian int32 magic {@code 0x00000803}, then n, rows, cols as int32, then n*rows*cols
 * unsigned bytes. Labels: magic {@code 0x00000801}, then n, then n unsigned bytes.
 */
public final class IdxReader {
    static final int IMAGE_MAGIC = 0x00000803;
    static final int LABEL_MAGIC = 0x00000801;

    private IdxReader() {
    }

    /**
     * Images flattened row-major to {@code [n, rows*cols]} float features equal to {@code pixel * scale},
     * with their labels, which must lie in {@code [0, numClasses)}.
     *
     * @throws DataException naming the file for a missing file, wrong magic, truncation, corrupt gzip,
     *     image/label count mismatch or a label out of range
     */
    public static LabeledData read(Path images, Path labels, int numClasses, double scale) {
        if (numClasses < 2) {
            throw new IllegalArgumentException("numClasses must be at least 2, got " + numClasses);
        }
        // check both exist up front so a missing label file is reported before decompressing 26 MB of images
        DataFiles.requireFile(images);
        DataFiles.requireFile(labels);

        byte[] img = DataFiles.readAll(images);
        ByteBuffer ih = header(images, img, IMAGE_MAGIC, 3, "an IDX image file");
        int n = ih.getInt();
        int rows = ih.getInt();
        int cols = ih.getInt();
        if (n <= 0 || rows <= 0 || cols <= 0) {
            throw new DataException(images, "header says " + n + " images of " + rows + "x" + cols
                    + "; all three must be positive");
        }
        long d = (long) rows * cols;
        long pixels = n * d;
        if (pixels > Integer.MAX_VALUE - 16) {
            throw new DataException(images, n + " images of " + rows + "x" + cols + " are too many to hold in one array");
        }
        int offset = 16;
        if (img.length - offset < pixels) {
            throw new DataException(images, "truncated: expected " + pixels + " pixel bytes (" + n + " images of "
                    + rows + "x" + cols + ") after the " + offset + "-byte header, got " + (img.length - offset)
                    + " (" + (img.length - offset) / d + " whole images)");
        }

        byte[] lab = DataFiles.readAll(labels);
        ByteBuffer lh = header(labels, lab, LABEL_MAGIC, 1, "an IDX label file");
        int nLabels = lh.getInt();
        if (nLabels < 0) {
            throw new DataException(labels, "header says " + nLabels + " labels");
        }
        if (lab.length - 8 < nLabels) {
            throw new DataException(labels, "truncated: expected " + nLabels + " labels after the 8-byte header, got "
                    + (lab.length - 8));
        }
        if (nLabels != n) {
            throw new DataException(labels, "has " + nLabels + " labels but " + images.getFileName() + " has "
                    + n + " images");
        }

        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            int label = lab[8 + i] & 0xff;
            if (label >= numClasses) {
                throw new DataException(labels, "example " + i + " has label " + label
                        + ", outside the allowed range [0, " + numClasses + ")");
            }
            y[i] = label;
        }

        float[] x = new float[(int) pixels];
        float s = (float) scale;
        for (int i = 0; i < x.length; i++) {
            x[i] = (img[offset + i] & 0xff) * s;
        }
        INDArray features = Nd4j.create(x, new long[] {n, d}, DataType.FLOAT);
        return new LabeledData(features, y, numClasses);
    }

    /** Checks length and magic; returns a big-endian buffer positioned at the first dimension size. */
    private static ByteBuffer header(Path file, byte[] bytes, int magic, int dims, String kind) {
        int headerBytes = 4 + 4 * dims;
        if (bytes.length < 4) {
            throw new DataException(file, "truncated: " + bytes.length + " bytes, not even the 4-byte magic number of "
                    + kind);
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes); // big-endian by default, as IDX is
        int actual = buf.getInt();
        if (actual != magic) {
            throw new DataException(file, String.format("wrong magic number 0x%08x, expected 0x%08x (%s)",
                    actual, magic, kind));
        }
        if (bytes.length < headerBytes) {
            throw new DataException(file, "truncated: expected a " + headerBytes + "-byte header, got "
                    + bytes.length + " bytes");
        }
        return buf;
    }
}
