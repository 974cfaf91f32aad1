package dev.distill.runner.cli;

import dev.distill.runner.testing.CliRun;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Adam;

/**
 * Every kind of bad input ends the same way: exit code 2, one line on stderr that names the file
 * (and the line and key where there is one) and what would be right, no stack trace, and no run
 * directory.
 */
class BadInputTest {

    @TempDir
    Path dir;
    Path out;
    Path digits;

    @BeforeEach
    void locateData() {
        out = dir.resolve("run");
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("datasets/digits.csv.gz"))) {
                digits = d.resolve("datasets/digits.csv.gz");
                return;
            }
        }
        throw new IllegalStateException("datasets/digits.csv.gz not found");
    }

    /** A valid digits config; {@code models} replaces the models block when given. */
    String config(String data, String models) {
        return "name: bad-input\n"
                + "seed: 1\n"
                + "data:\n"
                + (data != null ? data : "  dataset: digits\n  path: " + digits + "\n")
                + "models:\n"
                + (models != null ? models
                        : "  teacher:\n"
                        + "    layers:\n"
                        + "      - {type: dense, units: 8}\n"
                        + "      - {type: output, classes: 10}\n"
                        + "    training: {epochs: 1}\n"
                        + "  student:\n"
                        + "    layers: [{type: dense, units: 4}, {type: output}]\n"
                        + "    training: {epochs: 1}\n")
                + "chains:\n"
                + "  - [teacher, student]\n";
    }


    CliRun run(String yaml, String... extra) throws IOException {
        Path file = dir.resolve("config.yaml");
        Files.writeString(file, yaml);
        String[] args = new String[4 + extra.length];
        args[0] = "run";
        args[1] = file.toString();
        args[2] = "--out";
        args[3] = out.toString();
        System.arraycopy(extra, 0, args, 4, extra.length);
        return CliRun.of(args);
    }


    /** The contract of every bad-input case; returns the error line. */
    String rejected(CliRun r, String... fragments) {
        assertEquals(2, r.code(), "exit code; stderr: " + r.err());
        String[] lines = r.err().strip().split("\n");
        assertEquals(1, lines.length, "one line on stderr: " + r.err());
        assertTrue(lines[0].startsWith("error: "), lines[0]);
        assertFalse(r.err().contains("Exception") || r.err().contains("\tat "), "no stack trace: " + r.err());
        for (String f : fragments) {
            assertTrue(lines[0].contains(f), "'" + f + "' missing from: " + lines[0]);
        }
        assertFalse(Files.exists(out), "no run directory is created for bad input");
        return lines[0];
    }

    @Test
    void malformedYamlNamesTheLine() throws IOException {
        rejected(run("name: x\ndata: [unclosed\nmodels: {}\n"), "config.yaml:", "malformed YAML");
    }

    @Test
    void unknownKeyListsTheKnownKeysNearestFirst() throws IOException {
        String error = rejected(run(config(null, null).replace("chains:", "chain:")), "config.yaml:15", "chain",
                "unknown key");
        assertTrue(error.indexOf("chains") < error.indexOf("models"), "nearest first: " + error);
    }

    @Test
    void unknownNestedKeyIsLocated() throws IOException {
        rejected(run(config(null, null).replace("{epochs: 1}\n  student", "{epochs: 1, lerning_rate: 0.1}\n  student")),
                "config.yaml:11", "models.teacher.training.lerning_rate", "learning_rate");
    }

    @Test
    void wrongTypeSaysWhatWasExpected() throws IOException {
        rejected(run(config(null, null).replace("{epochs: 1}\n  student", "{epochs: ten}\n  student")),
                "config.yaml:11", "models.teacher.training.epochs", "expected an integer", "'ten'");
    }

    @Test
    void missingRequiredKeyIsNamed() throws IOException {
        rejected(run(config("  path: x.csv\n", null)), "config.yaml:", "data.dataset", "missing required key");
    }

    @Test
    void sparkWithoutTheSparkModuleOnTheClassPathIsOneLine() {
        // the runner's class path has no Spark (the runner does not depend on distill-spark)
        rejected(CliRun.of("run", CliRun.repoFile("configs/digits-takd.yaml").toString(), "--out", out.toString(),
                "--spark", "local[2]"), "--spark local[2]", "Spark support is not on the class path");
    }

    /** {@code body} run with the system property {@code key} at {@code value}, the property as it was afterwards. */
    static void withProperty(String key, String value, Runnable body) {
        String before = System.getProperty(key);
        System.setProperty(key, value);
        try {
            body.run();
        } finally {
            if (before == null) {
                System.clearProperty(key);
            } else {
                System.setProperty(key, before);
            }
        }
    }

    @Test
    void aMalformedForcedThreadCountIsOneLineBeforeAnythingRuns() {
        withProperty("distill.threads", "many", () -> rejected(CliRun.of("run",
                CliRun.repoFile("configs/digits-takd.yaml").toString(), "--out", out.toString()),
                "-Ddistill.threads=many", "expected a positive number of threads"));
    }

    @Test
    void aMalformedPrefetchSettingIsOneLineBeforeAnythingRuns() {
        withProperty("distill.prefetch", "two", () -> rejected(CliRun.of("run",
                CliRun.repoFile("configs/digits-takd.yaml").toString(), "--out", out.toString()),
                "-Ddistill.prefetch=two", "expected true, false or a positive number of threads"));
    }

    @Test
    void runDirectoryOnHdfsWithoutSparkIsOneLine() {
        rejected(CliRun.of("run", CliRun.repoFile("configs/digits-takd.yaml").toString(), "--out", "hdfs://namenode/runs/x"),
                "--out hdfs://namenode/runs/x", "needs --spark");
    }

    @Test
    void missingConfigFileIsNamed() {
        rejected(CliRun.of("run", dir.resolve("nope.yaml").toString(), "--out", out.toString()), "nope.yaml",
                "not found");
    }

    @Test
    void missingDataFileIsNamed() throws IOException {
        rejected(run(config("  dataset: csv\n  train: missing.csv\n  input: {features: 4}\n  classes: 2\n", null)),
                "data.train", "missing.csv", "file not found");
    }

    @Test
    void convolutionOnAFlatCsvPointsAtTheLayer() throws IOException {
        Path csv = dir.resolve("flat.csv");
        Files.writeString(csv, "0,1,2,3,0\n1,2,3,4,1\n");
        String models = "  teacher:\n"
                + "    layers:\n"
                + "      - {type: conv2d, filters: 4}\n"
                + "      - {type: output, classes: 2}\n"
                + "  student:\n"
                + "    layers: [{type: dense, units: 4}, {type: output}]\n";
        rejected(run(config("  dataset: csv\n  train: flat.csv\n  input: {features: 4}\n  classes: 2\n", models)),
                "config.yaml:11", "models.teacher.layers[0]", "image input");
    }

    @Test
    void chainNamingAnUndeclaredModelListsTheDeclaredOnes() throws IOException {
        rejected(run(config(null, null).replace("[teacher, student]", "[teacher, pupil]")), "config.yaml:16",
                "no model named 'pupil'", "teacher, student");
    }

    @Test
    void outputSizeDifferentFromTheClassCountIsRejected() throws IOException {
        rejected(run(config(null, null).replace("{type: output, classes: 10}", "{type: output, classes: 7}")),
                "config.yaml:10", "has 7 classes but the data has 10");
    }

    @Test
    void classCountThatTheLabelsDoNotUseIsRejected() throws IOException {
        String models = "  teacher:\n    layers: [{type: dense, units: 4}, {type: output}]\n"
                + "  student:\n    layers: [{type: dense, units: 4}, {type: output}]\n";
        rejected(run(config("  dataset: digits\n  path: " + digits + "\n  classes: 12\n", models)), "digits.csv.gz",
                "data.classes is 12", "set data.classes: 10");
    }

    @Test
    void corruptIdxFileIsNamed() throws IOException {
        Path images = idx(dir.resolve("images.idx"), 0x00000801, new int[] {2, 2, 2}, 8);
        Path labels = idx(dir.resolve("labels.idx"), 0x00000801, new int[] {2}, 2);
        rejected(run(idxConfig(images, labels)), "images.idx", "magic");
    }

    @Test
    void truncatedIdxFileIsNamed() throws IOException {
        Path images = idx(dir.resolve("images.idx"), 0x00000803, new int[] {2, 2, 2}, 5);
        Path labels = idx(dir.resolve("labels.idx"), 0x00000801, new int[] {2}, 2);
        rejected(run(idxConfig(images, labels)), "images.idx", "truncated");
    }

    @Test
    void labelOutOfRangeIsNamed() throws IOException {
        Path csv = dir.resolve("labels.csv");
        Files.writeString(csv, "0,1,0\n1,2,1\n0,3,5\n");
        rejected(run(config("  dataset: csv\n  train: labels.csv\n  input: {features: 2}\n  classes: 2\n",
                "  teacher:\n    layers: [{type: dense, units: 4}, {type: output}]\n"
                        + "  student:\n    layers: [{type: dense, units: 4}, {type: output}]\n")),
                "labels.csv", "line 3");
    }

    @Test
    void pretrainedTeacherWithTheWrongInputSizeIsRejected() throws IOException {
        Path model = savedModel(5, 10);
        rejected(run(config(null, pretrainedModels(model))), "teacher.zip", "does not accept");
    }

    @Test
    void pretrainedTeacherWithTheWrongOutputSizeIsRejected() throws IOException {
        Path model = savedModel(64, 3);
        rejected(run(config(null, pretrainedModels(model))), "teacher.zip", "10 classes");
    }

    @Test
    void badOverrideIsLocatedOnTheCommandLine() throws IOException {
        rejected(run(config(null, null), "--set", "seed=abc"), "--set seed=abc", "expected an integer");
    }

    @Test
    void verboseAddsTheStackTrace() throws IOException {
        CliRun r = run(config(null, null).replace("chains:", "chain:"), "--verbose");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("ConfigException") && r.err().contains("\tat "), r.err());
    }

    @Test
    void finishedRunIsNeverOverwritten() throws IOException {
        Files.createDirectories(out);
        Files.writeString(out.resolve("summary.json"), "{}");
        Path file = dir.resolve("config.yaml");
        Files.writeString(file, config(null, null));
        CliRun r = CliRun.of("run", file.toString(), "--out", out.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("already holds a finished run"), r.err());
        assertEquals("{}", Files.readString(out.resolve("summary.json")));
    }

    @Test
    void compareOfAnUnfinishedRunSaysSo() throws IOException {
        Files.createDirectories(out);
        CliRun r = CliRun.of("compare", out.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("did not finish"), r.err());
    }

    @Test
    void unknownCommandAndMissingArgumentAreUsageErrors() {
        assertEquals(2, CliRun.of("train", "x.yaml").code());
        assertEquals(2, CliRun.of("run").code());
    }

    @Test
    void validateChecksWithoutTrainingAndPrintsThePlan() throws IOException {
        Path file = dir.resolve("config.yaml");
        String models = "  teacher:\n    layers: [{type: dense, units: 8}, {type: output, classes: 10}]\n"
                + "  assistant:\n    layers: [{type: dense, units: 6}, {type: output}]\n"
                + "  student:\n    layers: [{type: dense, units: 4}, {type: output}]\n";
        Files.writeString(file, config(null, models)
                + "  - {models: [teacher, assistant, student], distillation: {temperature: 2}}\n");
        CliRun r = CliRun.of("validate", file.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("OK"), r.out());
        assertTrue(r.out().contains("student-from-teacher") && r.out().contains("student-from-assistant")
                && r.out().contains("student-baseline"), r.out());
        assertTrue(r.out().contains("T=2.0"), r.out());
    }

    private String idxConfig(Path images, Path labels) {
        return config("  dataset: idx\n  train_images: " + images + "\n  train_labels: " + labels + "\n  test_images: "
                + images + "\n  test_labels: " + labels + "\n  input: {height: 2, width: 2, channels: 1}\n"
                + "  classes: 2\n",
                "  teacher:\n    layers: [{type: dense, units: 4}, {type: output}]\n"
                        + "  student:\n    layers: [{type: dense, units: 4}, {type: output}]\n");
    }

    /** An IDX file with the given magic and dimensions and {@code payload} bytes after the header. */
    private static Path idx(Path file, int magic, int[] dims, int payload) throws IOException {
        try (DataOutputStream out = new DataOutputStream(Files.newOutputStream(file))) {
            out.writeInt(magic);
            for (int d : dims) {
                out.writeInt(d);
            }
            for (int i = 0; i < payload; i++) {
                out.writeByte(i % 2);
            }
        }
        return file;
    }

    private String pretrainedModels(Path model) {
        return "  teacher: {file: " + model + "}\n"
                + "  student:\n    layers: [{type: dense, units: 4}, {type: output}]\n    training: {epochs: 1}\n";
    }

    private Path savedModel(int inputs, int outputs) throws IOException {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().updater(new Adam()).list()
                .layer(new DenseLayer.Builder().nIn(inputs).nOut(4).build())
                .layer(new OutputLayer.Builder().nIn(4).nOut(outputs).activation(Activation.SOFTMAX).build())
                .build());
        net.init();
        Path file = dir.resolve("teacher.zip");
        ModelSerializer.writeModel(net, file.toFile(), false);
        return file;
    }
}
