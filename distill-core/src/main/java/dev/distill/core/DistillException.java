package dev.distill.core;

/**
 * A problem the user can fix (bad config, bad data, a model file that does not fit), reported as one
 * line without a stack trace. The command line maps it to exit code 2.
 */
public class DistillException extends RuntimeException {
    public DistillException(String message) {
        super(message);
    }

    public DistillException(String message, Throwable cause) {
        super(message, cause);
    }
}
