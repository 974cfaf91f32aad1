package dev.distill.runner.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/** Opening data files that may or may not be gzipped; shared by the readers. */
final class DataFiles {
    private DataFiles() {
    }

    /** Fails with a DataException unless {@code file} is an existing regular file. */
    static void requireFile(Path file) {
        if (!Files.exists(file)) {
            throw new DataException(file, "file not found");
        }
        if (!Files.isRegularFile(file)) {
            throw new DataException(file, "not a regular file");
        }
    }

    /**
     * Opens {@code file} for reading, decompressing it when it starts with the gzip magic bytes 1f 8b.
     * Detection is by content, not by name: a ".gz" that is not gzipped (or the reverse) still reads.
     */
    static InputStream open(Path file) {
        requireFile(file);
        InputStream in = null;
        try {
            in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
            in.mark(2);
            int b0 = in.read();
            int b1 = in.read();
            in.reset();
            if (b0 == 0x1f && b1 == 0x8b) {
                return new GZIPInputStream(in, 1 << 16);
            }
            return in;
        } catch (NoSuchFileException e) {
            closeQuietly(in);
            throw new DataException(file, "file not found", e);
        } catch (ZipException | EOFException e) {
            closeQuietly(in);
            throw corruptGzip(file, e);
        } catch (IOException e) {
            closeQuietly(in);
            throw new DataException(file, "cannot read: " + e, e);
        }
    }

    /** The whole (decompressed) content of {@code file}. */
    static byte[] readAll(Path file) {
        try (InputStream in = open(file)) {
            return in.readAllBytes();
        } catch (ZipException | EOFException e) {
            // EOFException here means the gzip stream ended early (a truncated download)
            throw corruptGzip(file, e);
        } catch (IOException e) {
            throw new DataException(file, "cannot read: " + e, e);
        }
    }

    /** A gzip failure (bad data, early end) as "corrupt gzip", anything else as a read error. */
    static DataException corruptGzipOrRead(Path file, IOException e) {
        if (e instanceof ZipException || e instanceof EOFException) {
            return corruptGzip(file, e);
        }
        return new DataException(file, "cannot read: " + e, e);
    }

    static DataException corruptGzip(Path file, IOException e) {
        return new DataException(file, "corrupt or truncated gzip data (" + e.getMessage() + ")", e);
    }

    private static void closeQuietly(InputStream in) {
        if (in != null) {
            try {
                in.close();
            } catch (IOException ignored) {
                // already failing with a better message
            }
        }
    }
}
