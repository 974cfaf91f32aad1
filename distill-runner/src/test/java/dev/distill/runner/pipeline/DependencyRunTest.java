package dev.distill.runner.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill.runner.cli.DistillCli;
import dev.distill.runner.testing.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model taken from another config ({@code teacher: {from: teacher.yaml, model: teacher}}) on digits:
 * the first run trains that config into its own run directory first and loads its teacher; a second
 * run reuses the finished run without training it again; validate says which of the two will happen;
 * a run directory that is not a finished run of the config as it is now is refused in one line.
 */
class DependencyRunTest {

    @TempDir
    static Path dir;

    static final String DATA = """
            data:
              dataset: digits
              input: {height: 8, width: 8, channels: 1}
              classes: 10
              batch_size: 32
            """;

    static Path teacherConfig;
    static Path studentConfig;
    static Path dependencyRun;
    static CliRun first;
    static CliRun second;
    static CliRun validateBefore;
    static FileTime teacherWritten;
    static boolean runAfterValidate;

    @BeforeAll
    static void runTwice() throws Exception {
        teacherConfig = write("teacher.yaml", """
                name: digits-teacher
                seed: 3
                """ + DATA + """
                models:
                  teacher:
                    layers: [{type: dense, units: 32, activation: relu}, {type: output, classes: 10}]
                    training: {epochs: 3}
                  student:
                    layers: [{type: dense, units: 8, activation: relu}, {type: output, classes: 10}]
                    training: {epochs: 1}
                chains: [[teacher, student]]
                baseline: false
                """);
        dependencyRun = dir.resolve("runs/digits-teacher");
        studentConfig = write("student.yaml", """
                name: digits-student
                """ + DATA + """
                models:
                  teacher: {from: teacher.yaml, model: teacher, run: runs/digits-teacher}
                  student:
                    layers: [{type: dense, units: 16, activation: relu}, {type: output, classes: 10}]
                    training: {epochs: 2}
                chains: [[teacher, student]]
                baseline: false
                """);
        validateBefore = CliRun.of("validate", studentConfig.toString());
        runAfterValidate = Files.exists(dependencyRun);
        first = CliRun.of("run", studentConfig.toString(), "--out", dir.resolve("first").toString());
        assertEquals(0, first.code(), first.err());
        teacherWritten = Files.getLastModifiedTime(dependencyRun.resolve("models/teacher.zip"));
        second = CliRun.of("run", studentConfig.toString(), "--out", dir.resolve("second").toString());
        assertEquals(0, second.code(), second.err());
    }

    static Path write(String name, String text) throws Exception {
        return Files.writeString(dir.resolve(name), text);
    }

    @Test
    void validateSaysTheOtherConfigWillBeTrainedFirst() {
        assertEquals(0, validateBefore.code(), validateBefore.err());
        assertTrue(validateBefore.out().contains("teacher.yaml's teacher: distill run trains teacher.yaml into "
                + dependencyRun + " first (2 training run(s))"), validateBefore.out());
        assertFalse(runAfterValidate, "validate trains nothing");
    }

    @Test
    void theFirstRunTrainsTheOtherConfigAndLoadsItsTeacher() throws Exception {
        assertTrue(first.out().contains("teacher: running teacher.yaml first, for its model teacher -> "
                + dependencyRun), first.out());
        assertTrue(Files.isRegularFile(dependencyRun.resolve("summary.json")), "a finished run of teacher.yaml");
        JsonNode trained = CliRun.summaryModels(dependencyRun).get("teacher");
        JsonNode loaded = CliRun.summaryModels(dir.resolve("first")).get("teacher");
        assertEquals("digits-teacher", new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(dependencyRun.resolve("summary.json").toFile()).get("name").asText());
        // the same network, scored on the same test split
        assertEquals(trained.get("test_accuracy").asDouble(), loaded.get("test_accuracy").asDouble(), 0);
        assertEquals(trained.get("params").asLong(), loaded.get("params").asLong());
    }

    @Test
    void theSecondRunReusesTheFinishedRun() throws Exception {
        assertTrue(second.out().contains("teacher: teacher of the finished run " + dependencyRun), second.out());
        assertFalse(second.out().contains("running teacher.yaml first"), second.out());
        assertEquals(teacherWritten, Files.getLastModifiedTime(dependencyRun.resolve("models/teacher.zip")));
        assertEquals(CliRun.summaryModels(dir.resolve("first")).get("teacher").get("test_accuracy"),
                CliRun.summaryModels(dir.resolve("second")).get("teacher").get("test_accuracy"));
        CliRun validate = CliRun.of("validate", studentConfig.toString());
        assertTrue(validate.out().contains("teacher.yaml's teacher, from the finished run " + dependencyRun),
                validate.out());
    }

    @Test
    void aModelTheOtherConfigDoesNotTrainIsRefusedWithTheOnesItDoes() throws Exception {
        Path config = write("wrong-id.yaml", Files.readString(studentConfig).replace("model: teacher,", "model: assistant,"));
        CliRun r = CliRun.of("validate", config.toString());
        assertEquals(DistillCli.BAD_INPUT, r.code());
        assertEquals("error: " + config + ":8: models.teacher.model: 'assistant' is not a model that teacher.yaml "
                + "trains; it trains: teacher, student-from-teacher", r.err().strip());
    }

    @Test
    void aRunOfAnEditedVersionOfTheOtherConfigIsNotReused() throws Exception {
        Path edited = write("teacher-edited.yaml", Files.readString(teacherConfig).replace("epochs: 3", "epochs: 4"));
        Path config = write("edited.yaml", Files.readString(studentConfig).replace("from: teacher.yaml",
                "from: teacher-edited.yaml"));
        CliRun r = CliRun.of("validate", config.toString());
        assertEquals(DistillCli.BAD_INPUT, r.code());
        assertTrue(r.err().contains(dependencyRun + ": is a run of another version of " + edited
                + " (models.teacher.training.epochs differ)"), r.err());
    }

    @Test
    void aDamagedModelFileOfTheFinishedRunIsRefused() throws Exception {
        Path copy = CliRun.copyTree(dependencyRun, dir.resolve("runs/damaged"));
        byte[] bytes = Files.readAllBytes(copy.resolve("models/teacher.zip"));
        bytes[bytes.length / 2] ^= 1;
        Files.write(copy.resolve("models/teacher.zip"), bytes);
        Path config = write("damaged.yaml", Files.readString(studentConfig).replace("run: runs/digits-teacher",
                "run: runs/damaged"));
        CliRun r = CliRun.of("run", config.toString(), "--out", dir.resolve("never").toString());
        assertEquals(DistillCli.BAD_INPUT, r.code());
        assertTrue(r.err().contains("models/teacher.zip: damaged: SHA-256"), r.err());
        assertFalse(Files.exists(dir.resolve("never")));
    }

    @Test
    void configsThatTrainEachOthersModelsAreRefused() throws Exception {
        write("a.yaml", "name: a\n" + DATA + """
                models:
                  teacher: {from: b.yaml, model: teacher}
                  student: {layers: [{type: output, classes: 10}]}
                chains: [[teacher, student]]
                """);
        Path b = write("b.yaml", "name: b\n" + DATA + """
                models:
                  teacher: {from: a.yaml, model: teacher}
                  student: {layers: [{type: output, classes: 10}]}
                chains: [[teacher, student]]
                """);
        CliRun r = CliRun.of("validate", b.toString());
        assertEquals(DistillCli.BAD_INPUT, r.code());
        assertTrue(r.err().contains("models.teacher.from: configs that train each other's models: b.yaml -> a.yaml "
                + "-> b.yaml"), r.err());
    }
}
