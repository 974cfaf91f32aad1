package dev.distill.runner.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.io.ModelFiles;
import dev.distill.core.prune.SparseModelFile;
import dev.distill.runner.testing.CliRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;

/**
 * Whatever is named as a model file, {@code evaluate} and a teacher's {@code file:} say in one line
 * what it really is: a damaged magic number, a text file, an empty file, a device, a FIFO, a
 * directory, a damaged sparse file (never called "not a DL4J model file"), a truncated zip. Exit code 2,
 * no stack trace, no run directory.
 */
class ModelFileMessagesTest {

    @TempDir
    static Path dir;

    /** Each bad model file and what its line must say. */
    static final Map<String, Path> FILES = new LinkedHashMap<>();
    static final Map<String, String> SAYS = new LinkedHashMap<>();

    @BeforeAll
    static void makeBadFiles() throws Exception {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().list()
                .layer(new DenseLayer.Builder().nIn(64).nOut(4).build())
                .layer(new OutputLayer.Builder().nIn(4).nOut(10).activation(Activation.SOFTMAX).build()).build());
        net.init();
        Path sparse = dir.resolve("good.sparse");
        SparseModelFile.write(net, sparse);
        Path zip = dir.resolve("good.zip");
        ModelFiles.saveForShipping(net, zip);

        byte[] magic = Files.readAllBytes(sparse);
        magic[0] = 'X';
        bad("a damaged magic number", Files.write(dir.resolve("magic.sparse"), magic),
                "not a model file: it starts with \"XSTLSPRS");
        bad("/etc/passwd", Path.of("/etc/passwd"), "not a model file: it starts with \"root:");
        bad("an empty file", Files.write(dir.resolve("empty.zip"), new byte[0]), "is empty (0 bytes)");
        bad("/dev/zero", Path.of("/dev/zero"), "not a regular file");
        Path fifo = dir.resolve("fifo.zip");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        bad("a FIFO", fifo, "not a regular file");
        bad("a directory", Files.createDirectory(dir.resolve("models.zip")), "is a directory");
        byte[] flipped = Files.readAllBytes(sparse);
        flipped[flipped.length / 2] ^= 0x10;
        bad("a damaged sparse file", Files.write(dir.resolve("damaged.sparse"), flipped), "checksum mismatch");
        byte[] whole = Files.readAllBytes(zip);
        bad("a zip without its last 10 bytes", Files.write(dir.resolve("cut.zip"), Arrays.copyOf(whole, whole.length - 10)),
                "damaged model zip");
        bad("a missing file", dir.resolve("missing.zip"), "model file not found");
    }

    static void bad(String what, Path file, String says) {
        FILES.put(what, file);
        SAYS.put(what, says);
    }

    /** The contract: exit 2, one line naming the file and saying what it is. */
    static void oneTrueLine(String what, CliRun r, Path file) {
        assertEquals(2, r.code(), what + ": exit code; stderr: " + r.err());
        String[] lines = r.err().strip().split("\n");
        assertEquals(1, lines.length, what + ": one line: " + r.err());
        assertTrue(lines[0].contains(file.toString()), what + ": names the file: " + lines[0]);
        assertTrue(lines[0].contains(SAYS.get(what)), what + ": says '" + SAYS.get(what) + "': " + lines[0]);
        assertFalse(r.err().contains("Exception") || r.err().contains("\tat "), what + ": no stack trace: " + r.err());
        if (!file.toString().endsWith(".zip") || !Files.isRegularFile(file)) {
            assertFalse(lines[0].contains("DL4J model file"), what + ": not called a bad DL4J file: " + lines[0]);
        }
    }

    @Test
    void evaluateSaysWhatEachBadModelFileIs() {
        List<String> failures = new ArrayList<>();
        for (Map.Entry<String, Path> e : FILES.entrySet()) {
            CliRun r = CliRun.of("evaluate", e.getValue().toString(), "--data",
                    CliRun.repoFile("configs/digits-takd.yaml").toString());
            try {
                oneTrueLine(e.getKey(), r, e.getValue());
            } catch (AssertionError a) {
                failures.add(a.getMessage());
            }
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }

    @Test
    void aTeachersFileSaysWhatEachBadModelFileIs() throws IOException {
        List<String> failures = new ArrayList<>();
        Path digits = CliRun.repoFile("datasets/digits.csv.gz");
        for (Map.Entry<String, Path> e : FILES.entrySet()) {
            Path config = dir.resolve("teacher-file.yaml");
            Files.writeString(config, "name: teacher-file\nseed: 1\ndata: {dataset: digits, path: " + digits + "}\n"
                    + "models:\n  teacher: {file: " + e.getValue() + "}\n"
                    + "  student: {layers: [{type: dense, units: 4}, {type: output}], training: {epochs: 1}}\n"
                    + "chains: [[teacher, student]]\n");
            Path out = dir.resolve("run-" + FILES.size());
            CliRun r = CliRun.of("run", config.toString(), "--out", out.toString());
            try {
                oneTrueLine(e.getKey(), r, e.getValue());
                assertFalse(Files.exists(out), e.getKey() + ": no run directory");
            } catch (AssertionError a) {
                failures.add(a.getMessage());
            }
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }
}
