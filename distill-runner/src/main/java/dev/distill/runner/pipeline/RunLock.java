package dev.distill.runner.pipeline;

import dev.distill.core.DistillException;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Properties;

/**
 * Keeps two processes from writing one run directory: {@code distill.lock} holds the writer's pid
 * and host. It is created atomically (a hard link to a complete temporary file); a lock whose pid
 * is no longer running on this host is stale and taken over with a message.
 */
public final class RunLock implements AutoCloseable {

    public static final String FILE = "distill.lock";

    private final Path file;

    private RunLock(Path file) {
        this.file = file;
    }

    /** Who holds a lock. */
    public record Holder(long pid, String host, String since) {

        /** True if the holder is this host's process {@code pid} and it is still running. */
        public boolean aliveHere() {
            return host.equals(thisHost()) && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        }

        String describe() {
            return "pid " + pid + " on " + host + " (since " + since + ")";
        }
    }

    /** Takes the lock of {@code runDir}, or says who has it. */
    public static RunLock acquire(Path runDir, PrintStream out) {
        Path file = runDir.resolve(FILE);
        for (int attempt = 0; attempt < 3; attempt++) {
            if (tryCreate(file)) {
                return new RunLock(file);
            }
            Holder holder = holder(runDir);
            if (holder == null) {
                // released between our attempt and the read; or unreadable (a foreign file): try again
                continue;
            }
            if (holder.aliveHere()) {
                throw new DistillException(runDir + ": in use by " + holder.describe() + "; wait for it to finish or "
                        + "stop it (if that process is not distill, delete " + file + ")");
            }
            if (!holder.host().equals(thisHost())) {
                throw new DistillException(runDir + ": locked by " + holder.describe() + ", another machine; if that "
                        + "process is gone, delete " + file);
            }
            out.println("taking over the stale lock of " + holder.describe() + ": that process is no longer running");
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        throw new DistillException(file + ": cannot take the lock");
    }

    /** The holder of {@code runDir}'s lock, or null if there is no (readable) lock. */
    public static Holder holder(Path runDir) {
        Properties p = new Properties();
        try (var in = Files.newBufferedReader(runDir.resolve(FILE), StandardCharsets.UTF_8)) {
            p.load(in);
            return new Holder(Long.parseLong(p.getProperty("pid")), p.getProperty("host"), p.getProperty("since"));
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException | RuntimeException e) {
            // a lock that does not say who holds it is nobody's: treat it as stale
            return new Holder(-1, thisHost(), "unknown");
        }
    }

    private static boolean tryCreate(Path file) {
        Path tmp = null;
        try {
            tmp = Files.createTempFile(file.getParent(), "." + FILE, ".tmp");
            Files.writeString(tmp, "pid=" + ProcessHandle.current().pid() + "\nhost=" + thisHost() + "\nsince="
                    + Instant.now() + "\n", StandardCharsets.UTF_8);
            // a hard link appears whole or not at all, and fails if the lock exists
            Files.createLink(file, tmp);
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        } catch (IOException e) {
            throw new DistillException(file + ": cannot create the lock: " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // a stray temporary file is never read as a lock
                }
            }
        }
    }

    /** This machine's host name, as a lock records it. */
    public static String thisHost() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown";
        }
    }

    @Override
    public void close() {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // a lock left behind is recognised as stale by the next run
        }
    }
}
