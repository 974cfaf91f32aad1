package dev.distill.runner.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.data.LabeledData;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxReaderTest {
    @TempDir
    Path dir;

    // 3 images of 2x3 pixels, covering 0, 255 and values above 127 (unsigned bytes)
    static final int[][] PIXELS = {
        {0, 1, 2, 3, 4, 5},
        {255, 254, 128, 127, 100, 200},
        {10, 20, 30, 40, 50, 60},
    };
    static final int[] LABELS = {7, 0, 9};

    @Test
    void readsRawIdxWithExactValues() throws IOException {
        Path images = write("images.idx", imageFile(3, 2, 3, flatten(PIXELS)));
        Path labels = write("labels.idx", labelFile(3, LABELS));
        assertRoundTrip(IdxReader.read(images, labels, 10, 1.0 / 255), 1.0 / 255);
    }

    @Test
    void readsGzippedIdxWithExactValues() throws IOException {
        Path images = write("images.gz", gzip(imageFile(3, 2, 3, flatten(PIXELS))));
        Path labels = write("labels.gz", gzip(labelFile(3, LABELS)));
        assertRoundTrip(IdxReader.read(images, labels, 10, 0.5), 0.5);
    }

    @Test
    void detectsGzipByContentNotByName() throws IOException {
        Path images = write("images-raw.gz", imageFile(3, 2, 3, flatten(PIXELS)));
        Path labels = write("labels-gzipped.idx", gzip(labelFile(3, LABELS)));
        assertRoundTrip(IdxReader.read(images, labels, 10, 1.0), 1.0);
    }

    @Test
    void rejectsImageFileWithWrongMagic() throws IOException {
        // a label file given where the image file belongs
        Path images = write("train-images.idx", labelFile(3, LABELS));
        Path labels = write("labels.idx", labelFile(3, LABELS));
        String msg = fails(images, labels, 10);
        assertTrue(msg.startsWith(images.toString()), msg);
        assertTrue(msg.contains("wrong magic number 0x00000801, expected 0x00000803"), msg);
    }

    @Test
    void rejectsLabelFileWithWrongMagic() throws IOException {
        Path images = write("images.idx", imageFile(3, 2, 3, flatten(PIXELS)));
        Path labels = write("train-labels.idx", imageFile(3, 2, 3, flatten(PIXELS)));
        String msg = fails(images, labels, 10);
        assertTrue(msg.startsWith(labels.toString()), msg);
        assertTrue(msg.contains("wrong magic number 0x00000803, expected 0x00000801"), msg);
    }

    @Test
    void rejectsTruncatedImages() throws IOException {
        byte[] full = imageFile(3, 2, 3, flatten(PIXELS));
        Path images = write("images.idx", Arrays.copyOf(full, full.length - 5)); // 18 pixel bytes -> 13
        Path labels = write("labels.idx", labelFile(3, LABELS));
        String msg = fails(images, labels, 10);
        assertTrue(msg.startsWith(images.toString()), msg);
        assertTrue(msg.contains("truncated: expected 18 pixel bytes"), msg);
        assertTrue(msg.contains("got 13"), msg);
    }

    @Test
    void rejectsImageFileShorterThanItsHeader() throws IOException {
        Path images = write("images.idx", Arrays.copyOf(imageFile(3, 2, 3, flatten(PIXELS)), 10));
        Path labels = write("labels.idx", labelFile(3, LABELS));
        String msg = fails(images, labels, 10);
        assertTrue(msg.startsWith(images.toString()), msg);
        assertTrue(msg.contains("expected a 16-byte header, got 10 bytes"), msg);
    }

    @Test
    void rejectsTruncatedLabels() throws IOException {
        Path images = write("images.idx", imageFile(3, 2, 3, flatten(PIXELS)));
        byte[] full = labelFile(3, LABELS);
        Path labels = write("labels.idx", Arrays.copyOf(full, full.length - 1));
        String msg = fails(images, labels, 10);
        assertTrue(msg.startsWith(labels.toString()), msg);
        assertTrue(msg.contains("truncated: expected 3 labels"), msg);
        assertTrue(msg.contains("got 2"), msg);
    }

    @Test
    void rejectsImageAndLabelCountMismatch() throws IOException {
        Path images = write("images.idx", imageFile(3, 2, 3, flatten(PIXELS)));
        Path labels = write("labels.idx", labelFile(2, new int[] {1, 2}));
        String msg = fails(images, labels, 10);
        assertTrue(msg.startsWith(labels.toString()), msg);
        assertTrue(msg.contains("has 2 labels but images.idx has 3 images"), msg);
    }

    @Test
    void rejectsLabelOutOfRangeNamingExampleAndValue() throws IOException {
        Path images = write("images.idx", imageFile(3, 2, 3, flatten(PIXELS)));
        Path labels = write("labels.idx", labelFile(3, new int[] {1, 200, 2}));
        String msg = fails(images, labels, 10);
        assertTrue(msg.startsWith(labels.toString()), msg);
        assertTrue(msg.contains("example 1 has label 200, outside the allowed range [0, 10)"), msg);
    }

    @Test
    void rejectsNonGzipGarbageAsWrongMagic() throws IOException {
        Path images = write("images.gz", "this is not an IDX file at all".getBytes(StandardCharsets.US_ASCII));
        Path labels = write("labels.idx", labelFile(3, LABELS));
        String msg = fails(images, labels, 10);
        assertTrue(msg.startsWith(images.toString()), msg);
        assertTrue(msg.contains("wrong magic number 0x74686973, expected 0x00000803"), msg);
    }

    @Test
    void rejectsCorruptGzip() throws IOException {
        byte[] garbage = new byte[64];
        Arrays.fill(garbage, (byte) 0x5a);
        garbage[0] = 0x1f;
        garbage[1] = (byte) 0x8b;
        Path images = write("images.gz", garbage);
        Path labels = write("labels.idx", labelFile(3, LABELS));
        String msg = fails(images, labels, 10);
        assertTrue(msg.startsWith(images.toString()), msg);
        assertTrue(msg.contains("corrupt or truncated gzip"), msg);
    }

    @Test
    void rejectsTruncatedGzip() throws IOException {
        byte[] gz = gzip(imageFile(3, 2, 3, flatten(PIXELS)));
        Path images = write("images.gz", Arrays.copyOf(gz, gz.length / 2));
        Path labels = write("labels.idx", labelFile(3, LABELS));
        String msg = fails(images, labels, 10);
        assertTrue(msg.startsWith(images.toString()), msg);
        assertTrue(msg.contains("corrupt or truncated gzip"), msg);
    }

    @Test
    void rejectsMissingFileNamingIt() throws IOException {
        Path images = write("images.idx", imageFile(3, 2, 3, flatten(PIXELS)));
        Path labels = dir.resolve("no-such-labels.idx");
        String msg = fails(images, labels, 10);
        assertEquals(labels + ": file not found", msg);
    }

    // ---- helpers

    private void assertRoundTrip(LabeledData data, double scale) {
        assertArrayEquals(new long[] {3, 6}, data.features().shape());
        assertArrayEquals(LABELS, data.labels());
        assertEquals(10, data.numClasses());
        for (int i = 0; i < PIXELS.length; i++) {
            for (int j = 0; j < PIXELS[i].length; j++) {
                assertEquals(PIXELS[i][j] * (float) scale, data.features().getFloat(i, j), 0f, "pixel " + i + "," + j);
            }
        }
    }

    private String fails(Path images, Path labels, int numClasses) {
        return assertThrows(DataException.class, () -> IdxReader.read(images, labels, numClasses, 1.0)).getMessage();
    }

    private Path write(String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }

    static int[] flatten(int[][] rows) {
        return Arrays.stream(rows).flatMapToInt(Arrays::stream).toArray();
    }

    static byte[] imageFile(int n, int rows, int cols, int[] pixels) {
        ByteBuffer b = ByteBuffer.allocate(16 + pixels.length);
        b.putInt(IdxReader.IMAGE_MAGIC).putInt(n).putInt(rows).putInt(cols);
        for (int p : pixels) {
            b.put((byte) p);
        }
        return b.array();
    }

    static byte[] labelFile(int n, int[] labels) {
        ByteBuffer b = ByteBuffer.allocate(8 + labels.length);
        b.putInt(IdxReader.LABEL_MAGIC).putInt(n);
        for (int l : labels) {
            b.put((byte) l);
        }
        return b.array();
    }

    static byte[] gzip(byte[] raw) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(raw);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
