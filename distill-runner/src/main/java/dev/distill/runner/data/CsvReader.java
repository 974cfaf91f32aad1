package dev.distill.runner.data;

import dev.distill.core.data.LabeledData;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.datavec.api.records.reader.impl.csv.CSVRecordReader;
import org.datavec.api.split.InputStreamInputSplit;
import org.datavec.api.writable.Writable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Reads a CSV file (raw or gzipped) of numeric features and one integer class label per row, through
 * DataVec's {@link CSVRecordReader}. Every row must have as many columns as the first.
 */
public final class CsvReader {
    private CsvReader() {
    }

    /**
     * @param labelColumn 0-based index of the label column; negative counts from the end (-1 = last)
     * @param header whether the first line is a header to skip
     * @param scale every feature value is multiplied by this
     * @throws DataException naming the file and the 1-based line number for ragged rows, non-numeric values,
     *     bad labels; or naming the file when it is missing, empty or not valid gzip
     */
    public static LabeledData read(Path file, int labelColumn, boolean header, int numClasses, double scale) {
        if (numClasses < 2) {
            throw new IllegalArgumentException("numClasses must be at least 2, got " + numClasses);
        }
        int skip = header ? 1 : 0;
        int columns = -1; // fixed by the first data row
        int label = -1;   // labelColumn resolved against that count
        int rows = 0;
        float[] x = new float[1 << 16];
        int[] y = new int[1024];
        float s = (float) scale;

        CSVRecordReader reader = new CSVRecordReader(skip);
        try (InputStream in = DataFiles.open(file)) {
            // InputStreamInputSplit is read line by line, so a gzipped file is never held whole in memory
            reader.initialize(new InputStreamInputSplit(in, file.toUri()));
            int lineNo = skip; // the reader consumes exactly one line per record, after the skipped header
            while (reader.hasNext()) {
                List<Writable> record = reader.next();
                lineNo++;
                // DataVec returns a blank line as one empty column; skip those (a trailing newline is common)
                if (record.size() == 1 && record.get(0).toString().isBlank()) {
                    continue;
                }
                if (columns < 0) {
                    columns = record.size();
                    label = labelColumn < 0 ? columns + labelColumn : labelColumn;
                    if (label < 0 || label >= columns) {
                        throw new DataException(file, "line " + lineNo + ": label column " + labelColumn
                                + " does not exist, the row has " + columns + " columns");
                    }
                    if (columns < 2) {
                        throw new DataException(file, "line " + lineNo + ": only one column, need features and a label");
                    }
                } else if (record.size() != columns) {
                    throw new DataException(file, "line " + lineNo + ": " + record.size() + " columns, but the first row has "
                            + columns);
                }

                int d = columns - 1;
                if ((long) (rows + 1) * d > x.length) {
                    long want = Math.max((long) x.length * 2, (long) (rows + 1) * d);
                    if (want > Integer.MAX_VALUE - 8) {
                        throw new DataException(file, "line " + lineNo + ": too many values to hold in one array");
                    }
                    x = Arrays.copyOf(x, (int) want);
                }
                if (rows == y.length) {
                    y = Arrays.copyOf(y, y.length * 2);
                }
                int at = rows * d;
                for (int c = 0; c < columns; c++) {
                    String text = record.get(c).toString().trim();
                    if (c == label) {
                        y[rows] = parseLabel(file, lineNo, c, text, numClasses);
                    } else {
                        x[at++] = (float) parseNumber(file, lineNo, c, text) * s;
                    }
                }
                rows++;
            }
        } catch (UncheckedIOException | IllegalStateException e) {
            // commons-io's LineIterator (inside DataVec) wraps read errors, e.g. a gzip stream that ends early
            if (e.getCause() instanceof IOException io) {
                throw DataFiles.corruptGzipOrRead(file, io);
            }
            throw e;
        } catch (IOException | InterruptedException e) {
            throw new DataException(file, "cannot read: " + e, e);
        } finally {
            try {
                reader.close();
            } catch (IOException ignored) {
                // the stream is closed by try-with-resources as well
            }
        }

        if (rows == 0) {
            throw new DataException(file, header ? "no data rows after the header line" : "the file is empty");
        }
        int d = columns - 1;
        float[] features = rows * d == x.length ? x : Arrays.copyOf(x, rows * d);
        return new LabeledData(Nd4j.create(features, new long[] {rows, d}, DataType.FLOAT),
                Arrays.copyOf(y, rows), numClasses);
    }

    private static double parseNumber(Path file, int lineNo, int column, String text) {
        double v;
        try {
            v = Double.parseDouble(text);
        } catch (NumberFormatException e) {
            throw new DataException(file, "line " + lineNo + ", column " + (column + 1) + ": \"" + text
                    + "\" is not a number");
        }
        if (!Double.isFinite(v)) {
            throw new DataException(file, "line " + lineNo + ", column " + (column + 1) + ": \"" + text
                    + "\" is not a finite number");
        }
        return v;
    }

    private static int parseLabel(Path file, int lineNo, int column, String text, int numClasses) {
        double v;
        try {
            v = Double.parseDouble(text); // accepts "3" and "3.0", the latter is common in exported files
        } catch (NumberFormatException e) {
            v = Double.NaN;
        }
        if (v != Math.rint(v) || Double.isInfinite(v)) {
            throw new DataException(file, "line " + lineNo + ", column " + (column + 1) + ": label \"" + text
                    + "\" is not an integer");
        }
        if (v < 0 || v >= numClasses) {
            throw new DataException(file, "line " + lineNo + ", column " + (column + 1) + ": label " + (long) v
                    + " is outside the allowed range [0, " + numClasses + ")");
        }
        return (int) v;
    }
}
