package dev.distill.runner.data;

import dev.distill.core.DistillException;
import java.nio.file.Path;

/**
 * A data file that cannot be used. The message always starts with the file's path, then the problem,
 * e.g. {@code "/x/train-images-idx3-ubyte.gz: wrong magic number 0x00000801, expected 0x00000803 (an IDX image file)"}.
 */
public class DataException extends DistillException {
    private final transient Path file;

    public DataException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public DataException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** The file (or directory) the problem is about. */
    public Path file() {
        return file;
    }
}
