package dev.distill.runner.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.distill.core.io.CheckpointStore;
import dev.distill.runner.cli.DistillCli;
import dev.distill.runner.testing.CliRun;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Resume, for real: a child JVM running the digits chain is killed with SIGKILL in the middle of
 * training, while a checkpoint's temporary file exists (a write under way, mid-epoch), and between
 * two links; {@code distill resume} then finishes each, and every model file
 * has the same parameters, bit for bit, and the summary the same figures, as a run never stopped.
 * Damaged checkpoints fall back to the previous one; a finished run, a locked run and an edited
 * config are each left alone.
 */
class ResumeTest {

    @TempDir
    static Path temp;

    /** The uninterrupted run every resumed one is compared with. */
    static Path reference;
    /** A run killed after the teacher's third epoch (its checkpoints of epochs 2 and 3 kept); copied, never resumed. */
    static Path killedInTeacher;

    static final List<String> SHORT = List.of(
            "--set", "models.teacher.training.epochs=5",
            "--set", "models.assistant.training.epochs=3",
            "--set", "models.student.training.epochs=3",
            "--set", "seeds=[0, 1]");

    static final String TEACHER_CHECKPOINTS = "checkpoints/teacher-seed42";

    @BeforeAll
    static void runStraightAndKillOne() throws Exception {
        reference = temp.resolve("reference");
        CliRun straight = CliRun.of(args("run", DigitsRunTest.config().toString(), "--out", reference.toString()));
        assertEquals(0, straight.code(), straight.err());
        killedInTeacher = temp.resolve("killed-in-teacher");
        killChildWhen(killedInTeacher, line -> line.matches("\\s*teacher\\s+epoch\\s+3/5.*"));
    }

    static String[] args(String... first) {
        List<String> all = new ArrayList<>(List.of(first));
        if (first[0].equals("run")) {
            all.addAll(SHORT);
        }
        return all.toArray(String[]::new);
    }

    /**
     * Starts {@code distill run} in a child JVM writing {@code out}, and kills it with SIGKILL as soon
     * as it prints a line that {@code when} accepts. Returns the child's output.
     */
    static String killChildWhen(Path out, Predicate<String> when) throws Exception {
        return killChild(out, List.of(), when, () -> false);
    }

    /**
     * Starts {@code distill run} (with {@code more} arguments) in a child JVM writing {@code out}, and
     * kills it with SIGKILL as soon as it prints a line that {@code line} accepts or {@code now} is true
     * (polled every millisecond). Returns the child's output.
     */
    static String killChild(Path out, List<String> more, Predicate<String> line, BooleanSupplier now)
            throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx2g", "-cp", System.getProperty("java.class.path"), DistillCli.class.getName()));
        command.addAll(List.of(args("run", DigitsRunTest.config().toString(), "--out", out.toString())));
        command.addAll(more);
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("OMP_NUM_THREADS", "1");
        Process child = builder.start();
        StringBuffer printed = new StringBuffer();
        AtomicBoolean seen = new AtomicBoolean();
        Thread reader = new Thread(() -> {
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String l; (l = lines.readLine()) != null; ) {
                    printed.append(l).append('\n');
                    if (line.test(l)) {
                        seen.set(true);
                    }
                }
            } catch (IOException ignored) {
                // the child was killed
            }
        });
        reader.start();
        try {
            while (child.isAlive() && !seen.get() && !now.getAsBoolean()) {
                Thread.sleep(1);
            }
            assertTrue(child.isAlive(), "the child ended before the kill point:\n" + printed);
            child.destroyForcibly();
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
            // SIGKILL: 128 + 9
            assertEquals(137, child.exitValue());
            reader.join(10_000);
            return printed.toString();
        } finally {
            child.destroyForcibly();
        }
    }

    static Path copyOf(Path run, String name) throws IOException {
        return CliRun.copyTree(run, temp.resolve(name));
    }

    static CliRun resume(Path run, String... more) {
        List<String> all = new ArrayList<>(List.of("resume", run.toString()));
        all.addAll(List.of(more));
        return CliRun.of(all.toArray(String[]::new));
    }

    /** summary.json's per-model figures that do not depend on timing, and every model file's parameters. */
    static void assertSameResults(Path expected, Path actual) throws Exception {
        ObjectMapper json = new ObjectMapper();
        JsonNode a = json.readTree(expected.resolve("summary.json").toFile());
        JsonNode b = json.readTree(actual.resolve("summary.json").toFile());
        assertEquals(a.get("models").size(), b.get("models").size());
        for (int i = 0; i < a.get("models").size(); i++) {
            JsonNode ma = a.get("models").get(i);
            JsonNode mb = b.get("models").get(i);
            for (String key : List.of("id", "test_accuracy", "test_accuracy_per_seed", "best_epoch",
                    "validation_accuracy", "params", "file_bytes", "nonzero_params")) {
                assertEquals(ma.get(key), mb.get(key), ma.get("id") + " " + key);
            }
        }
        Set<String> files = new HashSet<>(List.of(expected.resolve("models").toFile().list()));
        assertEquals(files, new HashSet<>(List.of(actual.resolve("models").toFile().list())));
        for (String f : files) {
            float[] pa = ModelSerializer.restoreMultiLayerNetwork(expected.resolve("models/" + f).toFile(), false)
                    .params().toFloatVector();
            float[] pb = ModelSerializer.restoreMultiLayerNetwork(actual.resolve("models/" + f).toFile(), false)
                    .params().toFloatVector();
            assertArrayEquals(pa, pb, 0f, f + ": parameters differ from the uninterrupted run's");
        }
        assertEquals(metricKeys(expected), metricKeys(actual), "one metrics line per model, seed and epoch");
    }

    /** (model, seed, epoch) of every metrics.jsonl line, with how often each appears. */
    static Map<String, Integer> metricKeys(Path run) throws IOException {
        Map<String, Integer> keys = new TreeMap<>();
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
            JsonNode m = json.readTree(line);
            keys.merge(m.get("model").asText() + "/" + m.get("seed").asLong() + "/" + m.get("epoch").asInt(), 1,
                    Integer::sum);
        }
        return keys;
    }

    static List<CheckpointStore.Entry> manifest(Path run) throws IOException {
        List<CheckpointStore.Entry> entries = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve(TEACHER_CHECKPOINTS).resolve(CheckpointStore.MANIFEST))) {
            if (!line.startsWith("#")) {
                String[] f = line.split("\t");
                entries.add(new CheckpointStore.Entry(f[0], Long.parseLong(f[1]), f[2], Integer.parseInt(f[3]),
                        Integer.parseInt(f[4])));
            }
        }
        return entries;
    }

    @Test
    void killedBetweenTwoLinksResumesToTheSameResultAlsoWhenForcedPastAnEdit() throws Exception {
        Path run = temp.resolve("killed-between-links");
        // the teacher is finished and its logits cached; its first student has not started
        killChildWhen(run, line -> line.contains("logits of teacher"));
        // an edit the config check counts (the summary's name) that leaves the models alone: refused, then forced
        Path config = run.resolve("config.yaml");
        Files.writeString(config, Files.readString(config).replace("name: digits-takd", "name: digits-renamed"));
        CliRun refused = resume(run);
        assertEquals(DistillCli.BAD_INPUT, refused.code(), refused.out());
        assertTrue(refused.err().contains("in keys that change results (name)"), refused.err());
        CliRun resumed = resume(run, "--force");
        assertEquals(0, resumed.code(), resumed.err() + resumed.out());
        assertTrue(resumed.out().contains("--force: resuming with the edited config.yaml (name changed)"),
                resumed.out());
        assertTrue(resumed.out().matches("(?s).*teacher: finished earlier.*"), resumed.out());
        assertTrue(resumed.out().contains("logits of teacher read from logits/teacher.bin"), resumed.out());
        assertSameResults(reference, run);
    }

    @Test
    void aMutualGroupKilledAfterItsSecondEpochResumesFromItsCheckpointsToTheSameResult() throws Exception {
        List<String> mutual = List.of("--set", "chains=[{mutual: [student, assistant]}]");
        Path straight = temp.resolve("mutual-straight");
        List<String> all = new ArrayList<>(List.of(args("run", DigitsRunTest.config().toString(), "--out",
                straight.toString())));
        all.addAll(mutual);
        CliRun reference = CliRun.of(all.toArray(String[]::new));
        assertEquals(0, reference.code(), reference.err());

        Path run = temp.resolve("mutual-killed");
        killChild(run, mutual, line -> line.matches("\\s*student-mutual seed 0\\s+epoch\\s+2/3.*"), () -> false);
        CliRun resumed = resume(run);
        assertEquals(0, resumed.code(), resumed.err() + resumed.out());
        assertTrue(resumed.out().contains("mutual learning: student-mutual, assistant-mutual trained together, seed 0, "
                + "resuming from their checkpoints (2 of 3 epochs done)"), resumed.out());
        assertSameResults(straight, run);
        assertFalse(Files.exists(run.resolve("checkpoints/assistant-mutual-seed0")), "a finished peer's checkpoints go");
    }

    @Test
    void killedDuringACheckpointWriteResumesToTheSameResult() throws Exception {
        Path run = temp.resolve("killed-during-write");
        Path dir = run.resolve(TEACHER_CHECKPOINTS);
        // a checkpoint at every batch boundary (how often is not a result-changing key): writes are most of the time
        killChild(run, List.of("--set", "checkpoints.every_minutes=0.000001"), l -> false, () -> {
            try (Stream<Path> files = Files.list(dir)) {
                // the temporary file of the fourth checkpoint or later: a write under way, mid-epoch
                return files.anyMatch(f -> f.getFileName().toString().matches("\\.ckpt-0000(0[4-9]|[1-9]\\d).*\\.tmp"));
            } catch (IOException notYet) {
                return false;
            }
        });
        // the checkpoints block may be edited without --force: back to the default for the rest of the run
        Path config = run.resolve("config.yaml");
        String text = Files.readString(config);
        assertTrue(text.contains("every_minutes: 0.000001"), text);
        Files.writeString(config, text.replace("every_minutes: 0.000001", "every_minutes: 10"));
        CliRun resumed = resume(run);
        assertEquals(0, resumed.code(), resumed.err() + resumed.out());
        assertTrue(resumed.out().matches("(?s).*teacher: resuming from " + TEACHER_CHECKPOINTS
                + "/ckpt-\\d+\\.zip \\(\\d of 5 epochs done, [\\d,]+ examples into the next\\).*"), resumed.out());
        assertSameResults(reference, run);
    }

    /** One full resume serves two cases: killed in the middle of training, and its newest checkpoint damaged. */
    @Test
    void killedMidTrainingWithTheNewestCheckpointDamagedResumesFromThePreviousToTheSameResult() throws Exception {
        Path run = copyOf(killedInTeacher, "resume-mid-training");
        assertFalse(Files.exists(run.resolve("summary.json")), "a killed run must not look finished");
        CliRun status = CliRun.of("status", run.toString());
        assertEquals(0, status.code(), status.err());
        assertTrue(status.out().contains("resumable"), status.out());
        assertTrue(status.out().matches("(?s).*teacher\\s+checkpointed at epoch [34] of 5.*"), status.out());

        List<CheckpointStore.Entry> entries = manifest(run);
        assertEquals(2, entries.size(), "keep: 2");
        Path newest = run.resolve(TEACHER_CHECKPOINTS).resolve(entries.get(1).file());
        flipByte(newest, Files.size(newest) / 2);
        CliRun resumed = resume(run);
        assertEquals(0, resumed.code(), resumed.err() + resumed.out());
        // the killed child left its lock behind
        assertTrue(resumed.out().contains("taking over the stale lock of pid"), resumed.out());
        assertTrue(resumed.out().contains("warning: " + newest + ": damaged: SHA-256"), resumed.out());
        assertTrue(resumed.out().contains("teacher: resuming from " + TEACHER_CHECKPOINTS + "/"
                + entries.get(0).file()), resumed.out());
        assertSameResults(reference, run);
        assertFalse(Files.exists(run.resolve(RunLock.FILE)), "the lock is released");
        assertTrue(CliRun.of("status", run.toString()).out().contains(": done"));
    }

    @Test
    void truncatedUnlistedAndUnreadableCheckpointsArePassedOver() throws Exception {
        // each case on its own copy; the store alone (no training) says what it would use
        for (String damage : List.of("truncate", "unlist", "garbage", "delete")) {
            Path run = copyOf(killedInTeacher, "damaged-" + damage);
            List<CheckpointStore.Entry> entries = manifest(run);
            Path dir = run.resolve(TEACHER_CHECKPOINTS);
            Path newest = dir.resolve(entries.get(1).file());
            switch (damage) {
                case "truncate" -> {
                    try (RandomAccessFile f = new RandomAccessFile(newest.toFile(), "rw")) {
                        f.setLength(f.length() / 3);
                    }
                }
                case "unlist" -> Files.writeString(dir.resolve(CheckpointStore.MANIFEST),
                        Files.readAllLines(dir.resolve(CheckpointStore.MANIFEST)).stream()
                                .filter(l -> !l.startsWith(entries.get(1).file())).map(l -> l + "\n")
                                .reduce("", String::concat));
                case "garbage" -> {
                    // a file that matches its manifest entry but is not a checkpoint: checked by deserializing
                    Files.writeString(newest, "not a zip");
                    rewriteEntry(dir, entries.get(1), newest);
                }
                default -> Files.delete(newest);
            }
            // what a kill during a checkpoint write leaves: a temporary file, never read
            Files.writeString(dir.resolve(".ckpt-000099.zip123.tmp"), "partial");
            List<String> warnings = new ArrayList<>();
            CheckpointStore.Restored used = new CheckpointStore(dir, 2).newestGood(warnings::add).orElseThrow();
            assertEquals(dir.resolve(entries.get(0).file()), used.file(), damage);
            assertEquals(1, warnings.size(), damage + ": " + warnings);
            assertTrue(warnings.get(0).startsWith(newest.toString()), damage + ": " + warnings);
            assertEquals(entries.get(0).epochsDone(), used.state().completedEpochs());
        }
    }

    static void flipByte(Path file, long at) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x5A);
        }
    }

    /** Makes the manifest vouch for the file as it is now (size and checksum). */
    static void rewriteEntry(Path dir, CheckpointStore.Entry entry, Path file) throws Exception {
        java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
        String hex = java.util.HexFormat.of().formatHex(sha.digest(Files.readAllBytes(file)));
        Path manifest = dir.resolve(CheckpointStore.MANIFEST);
        String text = Files.readString(manifest).replace(entry.sha256(), hex)
                .replace(entry.file() + "\t" + entry.bytes() + "\t", entry.file() + "\t" + Files.size(file) + "\t");
        Files.writeString(manifest, text);
    }

    @Test
    void resumingAFinishedRunSaysSoAndChangesNothing() throws Exception {
        Map<String, String> before = listing(reference);
        CliRun again = resume(reference);
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("finished"), again.out());
        assertTrue(again.out().contains("nothing changed"), again.out());
        assertEquals(before, listing(reference));
    }

    /** Every file's path, size and modification time. */
    static Map<String, String> listing(Path dir) throws IOException {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.toList()) {
                files.put(dir.relativize(p).toString(), Files.isDirectory(p) ? "dir"
                        : Files.size(p) + " " + Files.getLastModifiedTime(p).toMillis());
            }
        }
        return files;
    }

    @Test
    void aRunLockedByALiveProcessIsNotResumed() throws Exception {
        Path run = copyOf(killedInTeacher, "locked");
        Files.writeString(run.resolve(RunLock.FILE), "pid=" + ProcessHandle.current().parent().orElseThrow().pid()
                + "\nhost=" + InetAddress.getLocalHost().getHostName() + "\nsince=test\n");
        Map<String, String> before = listing(run);
        CliRun refused = resume(run);
        assertEquals(DistillCli.BAD_INPUT, refused.code(), refused.out());
        assertEquals(1, refused.err().lines().count(), refused.err());
        assertTrue(refused.err().contains("in use by pid"), refused.err());
        assertEquals(before, listing(run));
        CliRun status = CliRun.of("status", run.toString());
        assertTrue(status.out().contains(": running (pid"), status.out());
    }

    @Test
    void aRunThatFailedSaysSoInItsStatus() throws Exception {
        Path run = copyOf(killedInTeacher, "failed");
        RunDirectory dir = RunDirectory.open(run);
        dir.write(dir.progress().withFailure("out of disk space"));
        CliRun status = CliRun.of("status", run.toString());
        assertEquals(0, status.code(), status.err());
        assertTrue(status.out().startsWith(run + ": failed: out of disk space"), status.out());
        assertTrue(status.out().contains("resume with: distill resume " + run), status.out());
    }

    @Test
    void anEditThatChangesResultsIsRefusedInOneLineNamingItsKeys() throws Exception {
        Path run = copyOf(killedInTeacher, "edited");
        Path config = run.resolve("config.yaml");
        String text = Files.readString(config);
        Files.writeString(config, text.replace("temperature: 1,", "temperature: 2,").replace("seed: 42", "seed: 7"));
        Map<String, String> before = listing(run);
        CliRun refused = resume(run);
        assertEquals(DistillCli.BAD_INPUT, refused.code(), refused.out());
        assertEquals(1, refused.err().lines().count(), refused.err());
        assertTrue(refused.err().contains("distillation.temperature, seed"), refused.err());
        assertTrue(refused.err().contains("--force"), refused.err());
        assertEquals(before, listing(run));
        // how often checkpoints are written does not change results
        assertEquals(List.of(), ConfigDiff.resultChanging(text, text + "checkpoints: {keep: 5, every_minutes: 1}\n"));
    }
}
