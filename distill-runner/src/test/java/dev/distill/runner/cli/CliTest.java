package dev.distill.runner.cli;

import dev.distill.runner.testing.CliRun;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The command line through {@link DistillCli#execute}: bad input of every kind (config, data, model
 * files, arguments) exits with 2 and one "error: " line that names the file, without a stack trace
 * unless --verbose, and leaves no run directory behind; validate prints the plan without training.
 */
class CliTest {

    @TempDir
    Path dir;



    /** {@code run CONFIG --out DIR/run [extra...]}, which must fail before creating DIR/run. */
    CliRun run(Path config, String... extra) {
        List<String> args = new ArrayList<>(List.of("run", config.toString(), "--out", outDir().toString()));
        args.addAll(List.of(extra));
        return CliRun.of(args.toArray(String[]::new));
    }

    Path outDir() {
        return dir.resolve("run");
    }

    /** Exit 2, exactly one "error: " line naming {@code fileName}, no stack trace, no run directory. */
    void assertBadInput(CliRun r, String... mustContain) {
        assertEquals(DistillCli.BAD_INPUT, r.code(), "exit code; stderr: " + r.err());
        List<String> lines = r.err().lines().toList();
        assertEquals(1, lines.size(), "one line on stderr, got:\n" + r.err());
        String line = lines.get(0);
        assertTrue(line.startsWith("error: "), line);
        for (String part : mustContain) {
            assertTrue(line.contains(part), "expected '" + part + "' in: " + line);
        }
        assertFalse(line.contains("Exception"), "no exception class names: " + line);
        assertFalse(r.err().contains("\tat ") || r.err().contains("at dev."), "no stack frames: " + r.err());
        assertFalse(Files.exists(outDir()), "bad input must not leave a run directory: " + outDir());
    }

    // ---------------------------------------------------------------- config errors

    @Test
    void malformedYamlExitsWith2AndNamesFileAndLine() throws IOException {
        Path config = write("config.yaml", digitsConfig().replace("  classes: 10\n", "  classes: 10: 11\n"));
        CliRun r = run(config);
        assertBadInput(r, config + ":" + lineOf(read(config), "classes: 10: 11") + ": ", "malformed YAML");
    }

    @Test
    void unknownKeyExitsWith2AndSuggestsTheKnownKey() throws IOException {
        Path config = write("config.yaml", digitsConfig().replace("chains:", "chain:"));
        CliRun r = run(config);
        assertBadInput(r, config + ":" + lineOf(read(config), "chain:") + ": chain: unknown key", "chains");
    }

    @Test
    void wrongTypeExitsWith2() throws IOException {
        Path config = write("config.yaml", digitsConfig().replace("epochs: 2", "epochs: ten"));
        CliRun r = run(config);
        assertBadInput(r, config.toString(), "models.student.training.epochs", "expected an integer, found 'ten'");
    }

    @Test
    void badSetOverrideExitsWith2AndNamesTheOverride() throws IOException {
        Path config = write("config.yaml", digitsConfig());
        CliRun r = run(config, "--set", "data.classes=ten");
        assertBadInput(r, "--set data.classes=ten", "data.classes", "expected an integer");
    }

    @Test
    void missingConfigFileExitsWith2() {
        Path config = dir.resolve("no-such-config.yaml");
        CliRun r = run(config);
        assertBadInput(r, "no-such-config.yaml", "config file not found");
    }

    // ---------------------------------------------------------------- data errors

    @Test
    void missingCsvDataFileExitsWith2AndNamesBothFiles() throws IOException {
        Path config = write("config.yaml", csvConfig("no-such-data.csv", 3));
        CliRun r = run(config);
        assertBadInput(r, config.toString(), "data.train", "file not found", dir.resolve("no-such-data.csv").toString());
    }

    @Test
    void missingDigitsFileExitsWith2AndNamesIt() throws IOException {
        Path missing = dir.resolve("no-such-digits.csv.gz");
        Path config = write("config.yaml", digitsConfig().replace(digits().toString(), missing.toString()));
        CliRun r = run(config);
        assertBadInput(r, missing + ": file not found");
    }

    @Test
    void corruptIdxFileExitsWith2AndNamesIt() throws IOException {
        writeIdx(labelFile(new int[] {0, 1, 2, 0}), labelFile(new int[] {0, 1, 2, 0})); // labels where images belong
        Path config = write("config.yaml", idxConfig());
        CliRun r = run(config);
        assertBadInput(r, dir.resolve("train-images.idx") + ": wrong magic number 0x00000801, expected 0x00000803");
    }

    @Test
    void truncatedIdxFileExitsWith2AndNamesIt() throws IOException {
        byte[] whole = imageFile(4, 2, 3);
        byte[] cut = java.util.Arrays.copyOf(whole, whole.length - 10);
        writeIdx(cut, labelFile(new int[] {0, 1, 2, 0}));
        Path config = write("config.yaml", idxConfig());
        CliRun r = run(config);
        assertBadInput(r, dir.resolve("train-images.idx") + ": truncated");
    }

    @Test
    void csvLabelOutOfRangeExitsWith2AndNamesFileAndLine() throws IOException {
        Path data = write("train.csv", """
                0.1,0.2,0.3,0.4,0
                0.5,0.6,0.7,0.8,1
                0.5,0.6,0.7,0.8,2
                0.9,1.0,1.1,1.2,7
                """);
        Path config = write("config.yaml", csvConfig(data.getFileName().toString(), 3));
        CliRun r = run(config);
        assertBadInput(r, data + ": line 4, column 5: label 7 is outside the allowed range [0, 3)");
    }

    @Test
    void classCountAboveTheLabelsUsedExitsWith2() throws IOException {
        // digits has labels 0..9: with 12 classes no example has label 10
        Path config = write("config.yaml", digitsConfig().replace("  classes: 10\n", "  classes: 12\n"));
        CliRun r = run(config);
        assertBadInput(r, "digits.csv.gz", "data.classes");
    }

    @Test
    void classCountBelowTheLabelsUsedExitsWith2() throws IOException {
        // digits has labels 0..9: 5 classes cannot hold them (validate, not run: were it missed, run would train)
        Path config = write("config.yaml", digitsConfig().replace("  classes: 10\n", "  classes: 5\n"));
        CliRun r = CliRun.of("validate", config.toString());
        assertBadInput(r, "digits.csv.gz");
    }

    @Test
    void chainsThatDisagreeOnALinksSettingsExitWith2BeforeTheRunDirectoryExists() throws IOException {
        Path config = write("config.yaml", digitsConfig().replace("  - [teacher, student]\n",
                "  - [teacher, student]\n  - {models: [teacher, student], distillation: {temperature: 2}}\n"));
        CliRun r = run(config);
        assertBadInput(r, config.toString(), "chains[1]", "other distillation settings");
    }

    @Test
    void inputShapeThatDoesNotMatchTheDataExitsWith2AndNamesTheDataFile() throws IOException {
        // digits examples have 64 values; a 4x4x1 input needs 16
        Path config = write("config.yaml", digitsConfig().replace("  classes: 10\n",
                "  classes: 10\n  input: {height: 4, width: 4, channels: 1}\n"));
        CliRun r = run(config);
        assertBadInput(r, "digits.csv.gz", "64 features", "data.input");
    }

    // ---------------------------------------------------------------- pretrained model files

    @Test
    void pretrainedTeacherWhoseInputDoesNotFitTheDataExitsWith2() throws IOException {
        Path model = writeModel("teacher.zip", 5, 10);
        Path config = write("config.yaml", pretrainedConfig("teacher.zip"));
        CliRun r = run(config);
        assertBadInput(r, model + ": the model does not accept this data's examples (64 values each)");
    }

    @Test
    void pretrainedTeacherWithAnotherNumberOfClassesExitsWith2() throws IOException {
        Path model = writeModel("teacher.zip", 64, 3);
        Path config = write("config.yaml", pretrainedConfig("teacher.zip"));
        CliRun r = run(config);
        assertBadInput(r, model + ": the model outputs [2, 3] per batch but the data has 10 classes");
    }

    @Test
    void pretrainedTeacherThatIsNotAModelFileExitsWith2() throws IOException {
        Path model = write("teacher.zip", "this is not a zip");
        Path config = write("config.yaml", pretrainedConfig("teacher.zip"));
        CliRun r = run(config);
        assertBadInput(r, model + ": not a model file: it starts with \"this is not a zi\"");
    }

    @Test
    void pretrainedTeacherThatFitsValidatesAndIsShownAsLoaded() throws IOException {
        Path model = writeModel("teacher.zip", 64, 10);
        Path config = write("config.yaml", pretrainedConfig("teacher.zip"));
        CliRun r = CliRun.of("validate", config.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("loaded from " + model), r.out());
        assertTrue(r.out().contains("student-from-teacher"), r.out());
    }

    @Test
    void evaluateOfAMissingModelFileExitsWith2AndNamesIt() throws IOException {
        Path config = write("config.yaml", digitsConfig());
        Path missing = dir.resolve("no-such-model.zip");
        CliRun r = CliRun.of("evaluate", missing.toString(), "--data", config.toString());
        assertBadInput(r, missing.toString());
        String line = r.err().lines().toList().get(0).toLowerCase(java.util.Locale.ROOT);
        assertTrue(line.contains("not found") || line.contains("no such file"), line);
    }

    @Test
    void evaluateOfAFittingModelPrintsItsTestAccuracy() throws IOException {
        Path model = writeModel("model.zip", 64, 10);
        Path config = write("config.yaml", digitsConfig());
        CliRun r = CliRun.of("evaluate", model.toString(), "--data", config.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith(model + ": test accuracy 0."), r.out());
        assertTrue(r.out().contains("on 359 digits test examples"), r.out());
    }

    // ---------------------------------------------------------------- --verbose, validate, arguments

    @Test
    void verbosePrintsTheStackTraceAfterTheErrorLine() throws IOException {
        Path config = write("config.yaml", digitsConfig().replace("chains:", "chain:"));
        CliRun r = run(config, "--verbose");
        assertEquals(DistillCli.BAD_INPUT, r.code(), r.err());
        List<String> lines = r.err().lines().toList();
        assertTrue(lines.get(0).startsWith("error: " + config + ":"), r.err());
        assertTrue(lines.size() > 2, r.err());
        assertTrue(r.err().contains("ConfigException"), r.err());
        assertTrue(r.err().contains("at dev.distill.runner.config."), r.err());
        assertFalse(Files.exists(outDir()));
    }

    @Test
    void validateOnTheShippedDigitsConfigPrintsThePlan() {
        Path config = CliRun.repoFile("configs/digits-takd.yaml");
        CliRun r = CliRun.of("validate", config.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.err());
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.get(0).startsWith(config + ": OK. digits, input 8x8x1, 10 classes: "
                + "1,294 train / 144 validation / 359 test examples"), lines.get(0));
        List<String[]> plan = lines.stream().skip(1).limit(5).map(l -> l.trim().split("\\s+")).toList();
        assertEquals("  11 training run(s) over 3 seed(s)", lines.get(6), "the plan's size, last");
        assertEquals(7, lines.size(), r.out());
        assertEquals(List.of("teacher", "student-from-teacher", "assistant-from-teacher", "student-from-assistant",
                "student-baseline"), plan.stream().map(p -> p[0]).toList(), r.out());
        assertEquals(List.of("teacher", "student", "assistant", "student", "baseline"),
                plan.stream().map(p -> p[1]).toList(), r.out());
        assertTrue(lines.get(4).contains("distilled from assistant-from-teacher (T=1.0, soft 0.5, hard 0.5)"),
                lines.get(4));
        assertFalse(lines.get(1).contains("distilled"), lines.get(1));
        assertFalse(lines.get(5).contains("distilled"), lines.get(5));
    }

    @Test
    void validateAppliesSetOverrides() {
        CliRun r = CliRun.of("validate", CliRun.repoFile("configs/digits-takd.yaml").toString(),
                "--set", "distillation.temperature=2", "--set", "baseline=false");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("(T=2.0, soft 0.5, hard 0.5)"), r.out());
        assertFalse(r.out().contains("student-baseline"), r.out());
    }

    @Test
    void unknownSubcommandExitsWith2() {
        CliRun r = CliRun.of("frobnicate");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("frobnicate"), r.err());
    }

    @Test
    void noSubcommandExitsWith2AndNamesTheCommands() {
        CliRun r = CliRun.of();
        assertEquals(2, r.code());
        assertTrue(r.err().contains("run, resume, status, validate, compare, report, evaluate, bench, sensitivity or export"),
                r.err());
    }

    @Test
    void missingArgumentExitsWith2() {
        CliRun r = CliRun.of("validate");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("CONFIG"), r.err());
        assertEquals(2, CliRun.of("evaluate", "model.zip").code(), "evaluate without --data");
        assertEquals(2, CliRun.of("compare").code(), "compare without a run directory");
    }

    @Test
    void unknownOptionExitsWith2() throws IOException {
        Path config = write("config.yaml", digitsConfig());
        CliRun r = CliRun.of("run", config.toString(), "--out", outDir().toString(), "--epochs", "3");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--epochs"), r.err());
        assertFalse(Files.exists(outDir()));
    }

    @Test
    void compareOnARunThatDidNotFinishExitsWith2() throws IOException {
        Path unfinished = Files.createDirectories(dir.resolve("unfinished"));
        Files.writeString(unfinished.resolve("config.yaml"), "name: x\n");
        CliRun r = CliRun.of("compare", unfinished.toString());
        assertBadInput(r, unfinished.toString(), "did not finish");
    }

    @Test
    void compareOnAMissingDirectoryExitsWith2() {
        Path missing = dir.resolve("no-such-run");
        CliRun r = CliRun.of("compare", missing.toString());
        assertBadInput(r, missing + ": no such run directory");
    }

    // ---------------------------------------------------------------- configs and files

    /** A small valid config on the shipped digits file, with flat models (nothing here trains). */
    private static String digitsConfig() {
        return """
                name: cli-test
                seed: 1
                data:
                  dataset: digits
                  path: %s
                  classes: 10
                models:
                  teacher:
                    layers: [{type: dense, units: 16}, {type: output}]
                    training: {epochs: 1}
                  student:
                    layers: [{type: output}]
                    training: {epochs: 2}
                chains:
                  - [teacher, student]
                seeds: [0]
                """.formatted(digits());
    }

    private static String pretrainedConfig(String modelFile) {
        return """
                name: pretrained
                data: {dataset: digits, path: %s, classes: 10}
                models:
                  teacher: {file: %s}
                  student: {layers: [{type: dense, units: 8}, {type: output}], training: {epochs: 1}}
                chains: [[teacher, student]]
                """.formatted(digits(), modelFile);
    }

    private static String csvConfig(String trainFile, int classes) {
        return """
                name: csv
                data:
                  dataset: csv
                  train: %s
                  input: {features: 4}
                  classes: %d
                  validation_split: 0.25
                  test_split: 0.25
                models:
                  teacher: {layers: [{type: dense, units: 4}, {type: output}]}
                  student: {layers: [{type: output}]}
                chains: [[teacher, student]]
                """.formatted(trainFile, classes);
    }

    private static String idxConfig() {
        return """
                name: idx
                data:
                  dataset: idx
                  train_images: train-images.idx
                  train_labels: train-labels.idx
                  test_images: test-images.idx
                  test_labels: test-labels.idx
                  input: {height: 2, width: 3, channels: 1}
                  classes: 3
                models:
                  teacher: {layers: [{type: dense, units: 4}, {type: output}]}
                  student: {layers: [{type: output}]}
                chains: [[teacher, student]]
                """;
    }

    /** Writes the four IDX files of {@link #idxConfig()}; the test files are always valid. */
    private void writeIdx(byte[] trainImages, byte[] trainLabels) throws IOException {
        Files.write(dir.resolve("train-images.idx"), trainImages);
        Files.write(dir.resolve("train-labels.idx"), trainLabels);
        Files.write(dir.resolve("test-images.idx"), imageFile(4, 2, 3));
        Files.write(dir.resolve("test-labels.idx"), labelFile(new int[] {0, 1, 2, 0}));
    }

    private static byte[] imageFile(int n, int rows, int cols) {
        ByteBuffer b = ByteBuffer.allocate(16 + n * rows * cols);
        b.putInt(0x00000803).putInt(n).putInt(rows).putInt(cols);
        for (int i = 0; i < n * rows * cols; i++) {
            b.put((byte) (i * 37));
        }
        return b.array();
    }

    private static byte[] labelFile(int[] labels) {
        ByteBuffer b = ByteBuffer.allocate(8 + labels.length);
        b.putInt(0x00000801).putInt(labels.length);
        for (int label : labels) {
            b.put((byte) label);
        }
        return b.array();
    }

    /** A real DL4J MultiLayerNetwork file taking {@code nIn} values and giving {@code nOut}. */
    private Path writeModel(String name, int nIn, int nOut) throws IOException {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(1).list()
                .layer(new DenseLayer.Builder().nIn(nIn).nOut(4).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(4).nOut(nOut)
                        .activation(Activation.SOFTMAX).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        Path file = dir.resolve(name);
        ModelSerializer.writeModel(net, file.toFile(), false);
        return file;
    }

    private Path write(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content);
    }

    private static String read(Path file) throws IOException {
        return Files.readString(file);
    }

    private static int lineOf(String text, String part) {
        List<String> lines = text.lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(part)) {
                return i + 1;
            }
        }
        throw new AssertionError("no line with '" + part + "'");
    }

    private static Path digits() {
        return CliRun.repoFile("datasets/digits.csv.gz");
    }

}
