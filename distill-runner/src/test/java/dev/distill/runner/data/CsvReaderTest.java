package dev.distill.runner.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.data.LabeledData;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvReaderTest {
    @TempDir
    Path dir;

    static final float[][] FEATURES = {{0, 1.5f, 16}, {2, 3, 4}, {8, -1, 0.25f}};
    static final int[] LABELS = {3, 0, 2};

    @Test
    void readsPlainCsvWithoutHeaderLabelLast() throws IOException {
        Path file = write("data.csv", "0,1.5,16,3\n2,3,4,0\n8,-1,0.25,2\n");
        assertRoundTrip(CsvReader.read(file, -1, false, 4, 0.5), 0.5f);
    }

    @Test
    void readsPlainCsvWithHeaderLabelFirst() throws IOException {
        Path file = write("data.csv", "label,a,b,c\r\n3,0,1.5,16\r\n0,2,3,4\r\n2.0,8,-1,0.25\r\n\r\n");
        assertRoundTrip(CsvReader.read(file, 0, true, 4, 1.0), 1f);
    }

    @Test
    void readsGzippedCsvWithHeaderLabelLast() throws IOException {
        Path file = writeGz("data.csv.gz", "a,b,c,label\n0,1.5,16,3\n2,3,4,0\n8,-1,0.25,2\n");
        assertRoundTrip(CsvReader.read(file, 3, true, 4, 2.0), 2f);
    }

    @Test
    void readsGzippedCsvWithoutHeaderLabelFirst() throws IOException {
        // named .csv although gzipped: detection is by content
        Path file = writeGz("data.csv", "3,0,1.5,16\n0,2,3,4\n2,8,-1,0.25");
        assertRoundTrip(CsvReader.read(file, -4, false, 4, 1.0), 1f);
    }

    @Test
    void rejectsRaggedRowNamingLine() throws IOException {
        Path file = write("ragged.csv", "a,b,c,label\n0,1.5,16,3\n2,3,4,0,9\n8,-1,0.25,2\n");
        String msg = fails(file, -1, true, 4);
        assertTrue(msg.startsWith(file.toString()), msg);
        assertTrue(msg.contains("line 3: 5 columns, but the first row has 4"), msg);
    }

    @Test
    void rejectsRaggedRowInGzippedFileNamingLine() throws IOException {
        Path file = writeGz("ragged.csv.gz", "0,1.5,16,3\n2,3,4,0\n8,-1,2\n");
        String msg = fails(file, -1, false, 4);
        assertTrue(msg.startsWith(file.toString()), msg);
        assertTrue(msg.contains("line 3: 3 columns, but the first row has 4"), msg);
    }

    @Test
    void rejectsNonNumericValueNamingLineAndColumn() throws IOException {
        Path file = write("text.csv", "0,1.5,16,3\n2,three,4,0\n");
        String msg = fails(file, -1, false, 4);
        assertTrue(msg.startsWith(file.toString()), msg);
        assertTrue(msg.contains("line 2, column 2: \"three\" is not a number"), msg);
    }

    @Test
    void rejectsLabelOutOfRangeNamingLine() throws IOException {
        Path file = write("labels.csv", "x,y\n0,1\n1,0\n2,7\n");
        String msg = fails(file, -1, true, 4);
        assertTrue(msg.startsWith(file.toString()), msg);
        assertTrue(msg.contains("line 4, column 2: label 7 is outside the allowed range [0, 4)"), msg);
    }

    @Test
    void rejectsNegativeLabelNamingLine() throws IOException {
        Path file = write("labels.csv", "0,1\n1,-1\n");
        String msg = fails(file, -1, false, 4);
        assertTrue(msg.contains("line 2, column 2: label -1 is outside the allowed range [0, 4)"), msg);
    }

    @Test
    void rejectsNonIntegerLabelNamingLine() throws IOException {
        Path file = write("labels.csv", "0,1\n1,2.5\n");
        String msg = fails(file, -1, false, 4);
        assertTrue(msg.startsWith(file.toString()), msg);
        assertTrue(msg.contains("line 2, column 2: label \"2.5\" is not an integer"), msg);
    }

    @Test
    void rejectsLabelColumnBeyondTheRow() throws IOException {
        Path file = write("narrow.csv", "0,1\n1,2\n");
        String msg = fails(file, 5, false, 4);
        assertTrue(msg.startsWith(file.toString()), msg);
        assertTrue(msg.contains("line 1: label column 5 does not exist, the row has 2 columns"), msg);
    }

    @Test
    void rejectsEmptyFile() throws IOException {
        Path file = write("empty.csv", "");
        assertEquals(file + ": the file is empty", fails(file, -1, false, 4));
    }

    @Test
    void rejectsHeaderWithoutRows() throws IOException {
        Path file = writeGz("header-only.csv.gz", "a,b,label\n");
        assertEquals(file + ": no data rows after the header line", fails(file, -1, true, 4));
    }

    @Test
    void rejectsMissingFileNamingIt() {
        Path file = dir.resolve("absent.csv.gz");
        assertEquals(file + ": file not found", fails(file, -1, false, 4));
    }

    @Test
    void rejectsTruncatedGzip() throws IOException {
        StringBuilder csv = new StringBuilder();
        for (int i = 0; i < 2000; i++) {
            csv.append(i % 7).append(',').append(i % 13).append(',').append(i % 4).append('\n');
        }
        byte[] gz = IdxReaderTest.gzip(csv.toString().getBytes(StandardCharsets.UTF_8));
        Path file = Files.write(dir.resolve("cut.csv.gz"), Arrays.copyOf(gz, gz.length - 40));
        String msg = fails(file, -1, false, 4);
        assertTrue(msg.startsWith(file.toString()), msg);
        assertTrue(msg.contains("corrupt or truncated gzip"), msg);
    }

    // ---- helpers

    private static void assertRoundTrip(LabeledData data, float scale) {
        assertArrayEquals(new long[] {3, 3}, data.features().shape());
        assertArrayEquals(LABELS, data.labels());
        assertEquals(4, data.numClasses());
        for (int i = 0; i < FEATURES.length; i++) {
            for (int j = 0; j < FEATURES[i].length; j++) {
                assertEquals(FEATURES[i][j] * scale, data.features().getFloat(i, j), 0f, "value " + i + "," + j);
            }
        }
    }

    private static String fails(Path file, int labelColumn, boolean header, int numClasses) {
        return assertThrows(DataException.class, () -> CsvReader.read(file, labelColumn, header, numClasses, 1.0))
                .getMessage();
    }

    private Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }

    private Path writeGz(String name, String text) throws IOException {
        return Files.write(dir.resolve(name), IdxReaderTest.gzip(text.getBytes(StandardCharsets.UTF_8)));
    }
}
