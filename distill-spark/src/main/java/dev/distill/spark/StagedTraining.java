package dev.distill.spark;

import dev.distill.core.DistillException;
import dev.distill.runner.pipeline.Pipeline;
import dev.distill.runner.pipeline.Progress;
import dev.distill.runner.pipeline.RunDirectory;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;

/**
 * One task's training on a run directory reached through Hadoop's {@link FileSystem} ({@code hdfs://},
 * {@code s3a://}, {@code file:}): the files a training reads (the run's config and progress record,
 * the teachers' logits and models, its own checkpoints) are copied into a local scratch directory, it
 * trains there as in any run directory, and what it writes goes back: its checkpoints after each epoch
 * (so that a retry on another executor continues from them), its model and predictions at the end.
 * The driver keeps its own run directory as such a copy when the run directory is on another file
 * system ({@link #driverCopy}), sending and taking files around each Spark job.
 */
final class StagedTraining implements AutoCloseable {

    private final FileSystem fs;
    private final org.apache.hadoop.fs.Path remote;
    private final Path local;
    private final String checkpoints;
    /** A task's scratch directory, deleted when done; false: the driver's own run directory. */
    private final boolean scratch;
    /** What was copied in, by relative path, with its size and time then: only what changed goes back. */
    private final Map<String, List<Long>> pulled = new HashMap<>();

    private StagedTraining(FileSystem fs, org.apache.hadoop.fs.Path remote, Path local, String checkpoints,
            boolean scratch) {
        this.fs = fs;
        this.remote = remote;
        this.local = local;
        this.checkpoints = checkpoints;
        this.scratch = scratch;
    }

    /**
     * The driver's run directory {@code local}, of which the one at {@code runDir} (hdfs://, s3a://) is
     * kept a copy: the driver sends what tasks read before they run and takes back what they wrote.
     */
    static StagedTraining driverCopy(URI runDir, Path local) {
        try {
            return new StagedTraining(fileSystem(runDir), new org.apache.hadoop.fs.Path(runDir), local, null, false);
        } catch (IOException e) {
            throw new DistillException(runDir + ": cannot open the run directory: " + e.getMessage(), e);
        }
    }

    /** Sends these files or directories (what changed since they were last sent or taken). */
    void send(String... relative) {
        try {
            for (String r : relative) {
                Path file = local.resolve(r).normalize();
                if (Files.isDirectory(file)) {
                    sendTree(file);
                } else if (Files.isRegularFile(file)) {
                    copyOutIfChanged(r);
                }
            }
        } catch (IOException e) {
            throw new DistillException(remote + ": cannot write: " + e.getMessage(), e);
        }
    }

    /** Takes these files or directories (those that exist there) from the run directory. */
    void take(String... relative) {
        try {
            for (String r : relative) {
                copyIn(r);
            }
        } catch (IOException e) {
            throw new DistillException(remote + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static FileSystem fileSystem(URI runDir) throws IOException {
        FileSystem fs = FileSystem.get(runDir, new Configuration());
        // a local file system writes a .crc beside every file: the run directory must stay as a local run's
        fs.setWriteChecksum(false);
        return fs;
    }

    /** Copies what {@code training} reads from the run directory at {@code runDir} into a new scratch directory. */
    static StagedTraining pull(URI runDir, Pipeline.PlannedTraining training) {
        String checkpoints = RunDirectory.CHECKPOINTS + "/" + training.recordId() + "-seed" + training.seed();
        return pull(runDir, checkpoints, List.of("logits", "models", checkpoints));
    }

    /** Copies what computing a teacher's logits reads: the run's config and the teacher's model file. */
    static StagedTraining pullTeacher(URI runDir, String teacherFile) {
        return pull(runDir, null, List.of(teacherFile));
    }

    /** @param checkpoints the training's checkpoint directory, or null for none (the teacher logits' tasks) */
    private static StagedTraining pull(URI runDir, String checkpoints, List<String> inputs) {
        try {
            StagedTraining staged = new StagedTraining(fileSystem(runDir), new org.apache.hadoop.fs.Path(runDir),
                    Files.createTempDirectory("distill-task-"), checkpoints, true);
            for (String relative : List.of(RunDirectory.CHECKPOINTS + "/config.yaml",
                    RunDirectory.CHECKPOINTS + "/" + Progress.FILE, RunDirectory.CHECKPOINTS + "/" + Progress.BACKUP)) {
                staged.copyIn(relative);
            }
            for (String relative : inputs) {
                staged.copyIn(relative);
            }
            return staged;
        } catch (IOException e) {
            throw new DistillException(runDir + ": cannot read the run directory: " + e.getMessage(), e);
        }
    }

    /** The scratch copy the training runs in. */
    Path local() {
        return local;
    }

    /** Sends the training's checkpoint directory as it is now (new checkpoints in, removed ones out). */
    void pushCheckpoints() {
        if (checkpoints == null) {
            return;
        }
        try {
            Path dir = local.resolve(checkpoints);
            if (!Files.isDirectory(dir)) {
                return;
            }
            List<String> kept = new ArrayList<>();
            for (Path file : files(dir)) {
                kept.add(file.getFileName().toString());
                copyOutIfChanged(local.relativize(file).toString());
            }
            org.apache.hadoop.fs.Path remoteDir = new org.apache.hadoop.fs.Path(remote, checkpoints);
            for (FileStatus status : fs.listStatus(remoteDir)) {
                if (status.isFile() && !kept.contains(status.getPath().getName())) {
                    fs.delete(status.getPath(), false);
                }
            }
        } catch (IOException e) {
            throw new DistillException(remote + "/" + checkpoints + ": cannot write: " + e.getMessage(), e);
        }
    }

    /** Sends everything the training wrote: its model (or sweep point), predictions and checkpoints. */
    void pushOutputs() {
        pushCheckpoints();
        try {
            sendTree(local);
        } catch (IOException e) {
            throw new DistillException(remote + ": cannot write: " + e.getMessage(), e);
        }
    }

    private void sendTree(Path dir) throws IOException {
        for (Path file : files(dir)) {
            copyOutIfChanged(local.relativize(file).toString().replace(java.io.File.separatorChar, '/'));
        }
    }

    @Override
    public void close() {
        if (!scratch) {
            return;
        }
        try (Stream<Path> tree = Files.walk(local)) {
            for (Path p : tree.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void copyIn(String relative) throws IOException {
        org.apache.hadoop.fs.Path from = new org.apache.hadoop.fs.Path(remote, relative);
        if (!fs.exists(from)) {
            return;
        }
        if (fs.getFileStatus(from).isDirectory()) {
            for (FileStatus child : fs.listStatus(from)) {
                copyIn(relative + "/" + child.getPath().getName());
            }
            return;
        }
        Path to = local.resolve(relative);
        Files.createDirectories(to.getParent());
        try (InputStream in = fs.open(from)) {
            Files.copy(in, to, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        pulled.put(relative, stamp(to));
    }

    /** Writes to a temporary name, then renames: a task killed mid-copy leaves no half file under the real name. */
    private void copyOutIfChanged(String relative) throws IOException {
        Path from = local.resolve(relative);
        if (stamp(from).equals(pulled.get(relative))) {
            return;
        }
        org.apache.hadoop.fs.Path to = new org.apache.hadoop.fs.Path(remote, relative);
        org.apache.hadoop.fs.Path tmp = new org.apache.hadoop.fs.Path(to.getParent(), "." + to.getName() + ".tmp");
        try (OutputStream out = fs.create(tmp, true)) {
            Files.copy(from, out);
        }
        if (fs.exists(to)) {
            fs.delete(to, false);
        }
        if (!fs.rename(tmp, to)) {
            throw new IOException("cannot rename " + tmp + " to " + to);
        }
        pulled.put(relative, stamp(from));
    }

    private static List<Long> stamp(Path file) throws IOException {
        return List.of(Files.size(file), Files.getLastModifiedTime(file).toMillis());
    }

    private static List<Path> files(Path dir) throws IOException {
        try (Stream<Path> tree = Files.walk(dir)) {
            return tree.filter(Files::isRegularFile).toList();
        }
    }
}
