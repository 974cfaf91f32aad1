package dev.distill.core;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A write that failed because the file system is full: the machine's problem, not the input's. One
 * line naming the file; the command line maps it to its own exit code (3), so that a script can tell
 * "free some space and resume" from "fix the input".
 */
public class DiskFullException extends DistillException {

    /** What the kernel says (ENOSPC) and, for a quota, what it says then (EDQUOT). */
    private static final String[] SIGNS = {"No space left on device", "Disk quota exceeded"};

    public DiskFullException(Path file, Throwable cause) {
        super(file + ": cannot write: the disk is full (" + sign(cause) + "); free some space, then run the command "
                + "again (an interrupted run continues with distill resume RUN_DIR)", cause);
    }

    /**
     * {@code e} as a {@link DiskFullException} naming {@code file} if it (or a cause) says the disk is
     * full, else as an unchecked exception naming the file.
     */
    public static RuntimeException writing(Path file, IOException e) {
        if (isDiskFull(e)) {
            return new DiskFullException(file, e);
        }
        return new java.io.UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }

    /** Whether {@code e} or one of its causes is the kernel saying the disk (or the quota) is full. */
    public static boolean isDiskFull(Throwable e) {
        return sign(e) != null;
    }

    private static String sign(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String m = t.getMessage();
            if (t instanceof IOException && m != null) {
                for (String sign : SIGNS) {
                    if (m.contains(sign)) {
                        return sign;
                    }
                }
            }
        }
        return null;
    }
}
