package dev.distill.core;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * A write the kernel refuses because the disk is full (a real ENOSPC, from {@code /dev/full}) becomes
 * one line naming the file and saying the disk is full; other write errors stay what they are.
 */
class DiskFullExceptionTest {

    static final Path TARGET = Path.of("runs/x/models/student.zip");

    @Test
    void aWriteToAFullDiskNamesTheFileAndSaysTheDiskIsFull() {
        IOException full = assertThrows(IOException.class, () -> Files.write(Path.of("/dev/full"), new byte[1]));
        DiskFullException d = assertInstanceOf(DiskFullException.class, DiskFullException.writing(TARGET, full));
        assertTrue(d.getMessage().startsWith(TARGET + ": cannot write: the disk is full (No space left on device)"),
                d.getMessage());
        assertFalse(d.getMessage().contains("\n"), d.getMessage());
        assertTrue(DiskFullException.isDiskFull(new UncheckedIOException(full)), "found among the causes");
    }

    @Test
    void anotherWriteErrorIsNotCalledAFullDisk() {
        // a kernel file that refuses writes (EIO or EACCES), not ENOSPC
        IOException refused = assertThrows(IOException.class, () -> Files.write(Path.of("/proc/version"), new byte[1]));
        RuntimeException e = DiskFullException.writing(TARGET, refused);
        assertInstanceOf(UncheckedIOException.class, e);
        assertTrue(e.getMessage().startsWith("cannot write " + TARGET), e.getMessage());
        assertFalse(DiskFullException.isDiskFull(refused));
    }
}
