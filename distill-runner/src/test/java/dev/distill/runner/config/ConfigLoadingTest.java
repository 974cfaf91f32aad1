package dev.distill.runner.config;

import dev.distill.core.chain.Chain;

import dev.distill.core.chain.DistillationSettings;

import dev.distill.runner.testing.CliRun;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.DistillException;
import dev.distill.models.spec.Activation;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.LayerSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The YAML loader: the shipped configs load with the documented defaults, --set overrides take
 * effect, and every kind of bad config fails with one message that names the file, the line, the
 * key path and what would be right. Lines are found by the marker {@code # <-} written on the
 * offending line of each test's YAML.
 */
class ConfigLoadingTest {

    private static final String MARK = "# <-";

    @TempDir
    Path dir;

    // ---------------------------------------------------------------- the shipped configs

    @Test
    void shippedDigitsConfigLoadsWithItsModelsChainsAndDefaults() {
        ExperimentConfig c = ConfigLoader.load(CliRun.repoFile("configs/digits-takd.yaml"));

        assertEquals("digits-takd", c.name());
        assertEquals(42, c.seed());
        assertEquals(List.of("teacher", "assistant", "student"), List.copyOf(c.models().keySet()));
        for (ModelConfig m : c.models().values()) {
            ModelConfig.Declared d = assertInstanceOf(ModelConfig.Declared.class, m);
            assertEquals(30, d.training().epochs(), d.name());
            assertEquals(32, d.training().batchSize(), d.name() + " inherits data.batch_size");
            assertEquals(1e-3, d.training().learningRate(), 1e-12, d.name());
            assertEquals(10, d.spec().classes(), d.name());
        }
        assertEquals(List.of(List.of("teacher", "student"), List.of("teacher", "assistant", "student")),
                c.chains().stream().map(Chain::models).toList());
        // what validation chose on digits (docs/methods.md): the framework's defaults, spelled out
        assertEquals(DistillationSettings.DEFAULTS, c.distillation());
        assertTrue(c.baseline());
        assertEquals(List.of(0L, 1L, 2L), c.seeds());

        DataConfig data = c.data();
        DataSource.Digits source = assertInstanceOf(DataSource.Digits.class, data.source());
        assertTrue(Files.isRegularFile(source.file()), "default digits path found walking up: " + source.file());
        assertEquals(InputShape.image(8, 8, 1), data.input());
        assertEquals(10, data.classes());
        assertEquals(32, data.batchSize());
        assertEquals(0.1, data.validationSplit(), 1e-12);
        assertEquals(0.2, data.testSplit(), 1e-12);
    }

    @Test
    void shippedFashionMnistConfigLoadsWithTheParameterCountsItsCommentsClaim() {
        ExperimentConfig c = ConfigLoader.load(CliRun.repoFile("configs/fashion-mnist-takd.yaml"));

        assertEquals("fashion-mnist-takd", c.name());
        assertEquals(42, c.seed());
        Map<String, Long> params = Map.of("teacher", 824_458L, "assistant", 105_866L, "student", 25_450L);
        assertEquals(List.of("teacher", "assistant", "student"), List.copyOf(c.models().keySet()));
        for (ModelConfig m : c.models().values()) {
            ModelConfig.Declared d = assertInstanceOf(ModelConfig.Declared.class, m);
            assertEquals(params.get(d.name()), d.cost().params(), d.name());
            assertEquals(10, d.training().epochs(), d.name());
            assertEquals(128, d.training().batchSize(), d.name());
        }
        assertEquals(List.of(List.of("teacher", "student"), List.of("teacher", "assistant", "student")),
                c.chains().stream().map(Chain::models).toList());
        assertProtocolDistillation(c);
        assertTrue(c.baseline());
        assertEquals(List.of(0L, 1L, 2L), c.seeds());
        assertInstanceOf(DataSource.FashionMnist.class, c.data().source());
        assertEquals(InputShape.image(28, 28, 1), c.data().input());
        assertEquals(0.0, c.data().testSplit(), "Fashion-MNIST has its own test files");
    }

    /** The protocol spells out the textbook settings, so that it stays the protocol whatever the defaults. */
    private static void assertProtocolDistillation(ExperimentConfig c) {
        assertEquals(new DistillationSettings(4.0, 0.9, 0.1), c.distillation());
        for (Chain chain : c.chains()) {
            assertEquals(new DistillationSettings(4.0, 0.9, 0.1), chain.distillation());
        }
    }

    @Test
    void distillationDefaultsAreT1Soft05Hard05WhenTheConfigOmitsThem() {
        ExperimentConfig c = load(valid());
        assertEquals(new DistillationSettings(1.0, 0.5, 0.5), c.distillation());
        assertEquals(List.of(7L), c.seeds(), "without seeds: the seed alone");
        assertTrue(c.baseline(), "baseline defaults to true");
    }

    @Test
    void aChainMayOverrideTheDistillationSettingsItInheritsFromTheDefaults() {
        ExperimentConfig c = load(valid()
                .replace("chains:\n", "distillation: {temperature: 3, soft_weight: 0.8}\nchains:\n")
                .replace("  - [teacher, student]", "  - {models: [teacher, student], distillation: {hard_weight: 0.7}}"));
        assertEquals(new DistillationSettings(3, 0.8, DistillationSettings.DEFAULTS.hardWeight()), c.distillation());
        assertEquals(new DistillationSettings(3, 0.8, 0.7), c.chains().get(0).distillation());
    }

    // ---------------------------------------------------------------- YAML and keys

    @Test
    void malformedYamlNamesTheLineOfTheProblem() {
        String yaml = replaceLine(valid(), "  classes: 10", "  classes: 10: 11  " + MARK);
        ConfigException e = error(yaml);
        assertLocated(e, yaml, "");
        assertContains(e, "malformed YAML");
    }

    @Test
    void emptyConfigSaysWhatItNeeds() {
        ConfigException e = error("# nothing here\n");
        assertTrue(e.getMessage().startsWith(configFile() + ":1: "), e.getMessage());
        assertContains(e, "name, data, models and chains");
    }

    @Test
    void unknownTopLevelKeyListsKnownKeysNearestFirst() {
        String yaml = replaceLine(valid(), "chains:", "chain:  " + MARK);
        ConfigException e = error(yaml);
        assertLocated(e, yaml, "chain");
        assertContains(e, "unknown key; known keys here: chains, ");
        for (String key : List.of("name", "seed", "data", "models", "distillation", "baseline", "seeds")) {
            assertContains(e, key);
        }
    }

    @Test
    void unknownNestedKeyNamesItsFullPathAndSuggestsTheNearestKey() {
        String yaml = replaceLine(valid(), "      epochs: 3", "      epoch: 3  " + MARK);
        ConfigException e = error(yaml);
        assertLocated(e, yaml, "models.student.training.epoch");
        assertContains(e, "known keys here: epochs, ");
    }

    @Test
    void unknownKeyInALayerListsTheKeysOfThatLayerType() {
        String yaml = replaceLine(valid(), "      - {type: dense, units: 16}",
                "      - {type: dense, unit: 16}  " + MARK);
        ConfigException e = error(yaml);
        assertLocated(e, yaml, "models.teacher.layers[2].unit");
        assertContains(e, "known keys here: units, ");
    }

    @Test
    void wrongTypeSaysWhatWasExpectedAndWhatWasFound() {
        String yaml = replaceLine(valid(), "      epochs: 3", "      epochs: ten  " + MARK);
        ConfigException e = error(yaml);
        assertLocated(e, yaml, "models.student.training.epochs");
        assertContains(e, "expected an integer, found 'ten'");
    }

    @Test
    void listWhereASingleValueBelongsIsAWrongType() {
        String yaml = replaceLine(valid(), "  classes: 10", "  classes: [10]  " + MARK);
        ConfigException e = error(yaml);
        assertLocated(e, yaml, "data.classes");
        assertContains(e, "expected a single value, found a list");
    }

    @Test
    void outOfRangeTrainingValueIsLocatedAtItsTrainingMapping() {
        String yaml = replaceLine(valid(), "    training: {epochs: 2, learning_rate: 0.01}",
                "    training: {epochs: 0, learning_rate: 0.01}  " + MARK);
        ConfigException e = error(yaml);
        assertLocated(e, yaml, "models.teacher.training");
        assertContains(e, "epochs must be a positive integer");
    }

    @Test
    void missingRequiredKeyNamesItsPathAndPointsIntoItsMapping() {
        String yaml = valid().replace("  dataset: digits\n", "");
        assertFalse(yaml.contains("dataset:"));
        ConfigException e = error(yaml);
        // the data mapping: its "data:" line or its first key (SnakeYAML marks a block mapping there)
        int line = lineOf(e);
        assertTrue(line == lineOf(yaml, "data:") || line == lineOf(yaml, "  path:"), e.getMessage());
        assertContains(e, "data.dataset: missing required key");
    }

    @Test
    void missingChainsIsReported() {
        String yaml = valid().substring(0, valid().indexOf("chains:"));
        ConfigException e = error(yaml);
        assertContains(e, "chains: missing required key");
        assertTrue(e.getMessage().startsWith(configFile() + ":"), e.getMessage());
    }

    @Test
    void unknownDatasetListsTheKnownOnes() {
        String yaml = replaceLine(valid(), "  dataset: digits", "  dataset: mnist  " + MARK);
        ConfigException e = error(yaml);
        assertLocated(e, yaml, "data.dataset");
        assertContains(e, "known: digits, fashion-mnist, idx, csv");
    }

    // ---------------------------------------------------------------- models

    @Test
    void unknownLayerTypeListsTheKnownTypes() {
        String yaml = replaceLine(valid(), "      - {type: dense, units: 16}",
                "      - {type: dens, units: 16}  " + MARK);
        ConfigException e = error(yaml);
        assertLocated(e, yaml, "models.teacher.layers[2].type");
        assertContains(e, "unknown layer type 'dens'");
        assertContains(e, "known: dense, conv2d, depthwise_conv2d, separable_conv2d, max_pool, avg_pool, "
                + "global_pool, batch_norm, activation, dropout, output");
    }

    @Test
    void anActivationLayerParsesWithItsFunctionAndRejectsOtherKeys() {
        String yaml = replaceLine(valid(), "      - {type: conv2d, filters: 4, kernel: 3}",
                "      - {type: conv2d, filters: 4, kernel: 3, activation: identity}\n"
                        + "      - {type: batch_norm}\n      - {type: activation, activation: relu6}");
        ExperimentConfig c = load(yaml);
        assertEquals(new LayerSpec.Activate(Activation.RELU6),
                ((ModelConfig.Declared) c.models().get("teacher")).spec().layers().get(2));
        String bad = replaceLine(valid(), "      - {type: max_pool, size: 2}",
                "      - {type: activation, activation: relu, units: 3}  " + MARK);
        ConfigException e = error(bad);
        assertLocated(e, bad, "models.teacher.layers[1].units");
        assertContains(e, "unknown key; known keys here: type, activation");
    }

    @Test
    void convolutionOnAFlatCsvInputPointsAtTheConvLayerAndAsksForAnImageInput() throws IOException {
        Path csv = Files.writeString(dir.resolve("train.csv"), "0.1,0.2,0.3,0.4,0\n0.5,0.6,0.7,0.8,1\n");
        String yaml = """
                name: flat
                data:
                  dataset: csv
                  train: '%s'
                  input: {features: 4}
                  classes: 2
                models:
                  teacher:
                    layers:
                      - {type: dense, units: 8}
                      - {type: conv2d, filters: 4, kernel: 3}  # <-
                      - {type: output}
                  student:
                    layers: [{type: output}]
                chains: [[teacher, student]]
                """.formatted(csv);
        ConfigException e = error(yaml);
        assertLocated(e, yaml, "models.teacher.layers[1]");
        assertContains(e, "conv2d needs an image input");
        assertContains(e, "flat 4");
    }

    @Test
    void outputLayerWithOtherClassesThanTheDataPointsAtTheOutputLayer() {
        String yaml = replaceLine(valid(), "      - {type: output, classes: 10}",
                "      - {type: output, classes: 3}  " + MARK);
        ConfigException e = error(yaml);
        assertLocated(e, yaml, "models.student.layers[1]");
        assertContains(e, "output has 3 classes but the data has 10; set classes: 10");
    }

    @Test
    void outputLayerWithoutClassesTakesThemFromTheData() {
        ExperimentConfig c = load(valid());
        assertEquals(10, ((ModelConfig.Declared) c.models().get("teacher")).spec().classes());
    }

    @Test
    void pretrainedModelFileThatDoesNotExistIsNamed() {
        String yaml = valid().replace("""
                  teacher:
                    layers:
                """, """
                  teacher: {file: missing-teacher.zip}  # <-
                  unused:
                    layers:
                """);
        ConfigException e = error(yaml);
        assertLocated(e, yaml, "models.teacher.file");
        assertContains(e, dir.resolve("missing-teacher.zip") + ": model file not found");
    }

    @Test
    void pretrainedModelFileIsResolvedAgainstTheConfigsDirectory() throws IOException {
        Files.writeString(dir.resolve("teacher.zip"), "not checked by the loader");
        String yaml = valid().replace("""
                  teacher:
                    layers:
                """, """
                  teacher: {file: teacher.zip}
                  unused:
                    layers:
                """);
        ExperimentConfig c = load(yaml);
        ModelConfig.Pretrained p = assertInstanceOf(ModelConfig.Pretrained.class, c.models().get("teacher"));
        assertEquals(dir.resolve("teacher.zip"), p.file());
    }

    @Test
    void pretrainedModelCanOnlyBeTheFirstOfAChain() throws IOException {
        Files.writeString(dir.resolve("teacher.zip"), "not checked by the loader");
        String yaml = valid().replace("""
                  teacher:
                    layers:
                """, """
                  teacher: {file: teacher.zip}
                  other:
                    layers:
                """).replace("  - [teacher, student]", "  - [student, teacher]  " + MARK);
        ConfigException e = error(yaml);
        assertLocated(e, yaml, "chains[0]");
        assertContains(e, "'teacher' is trained already (given, or loaded from a file) and never trained further");
        assertContains(e, "first model of a chain");
    }

    @Test
    void modelNameThatCannotNameAFileIsRejected() {
        String yaml = replaceLine(valid(), "  student:", "  stu-dent:  " + MARK);
        ConfigException e = error(yaml);
        assertLocated(e, yaml, "models.stu-dent");
        assertContains(e, "letters, digits and '_'");
    }

    // ---------------------------------------------------------------- chains and seeds

    @Test
    void chainNamingAnUndeclaredModelListsTheDeclaredOnes() {
        String yaml = replaceLine(valid(), "  - [teacher, student]", "  - [teacher, studnet]  " + MARK);
        ConfigException e = error(yaml);
        assertLocated(e, yaml, "chains[0]");
        assertContains(e, "no model named 'studnet'; declared models: teacher, student");
    }

    @Test
    void chainOfOneModelNeedsATeacherAndAStudent() {
        String yaml = valid().replace("  - [teacher, student]", "  - [teacher, student]\n  - [teacher]  " + MARK);
        ConfigException e = error(yaml);
        assertLocated(e, yaml, "chains[1]");
        assertContains(e, "a chain needs at least a teacher and a student");
    }

    @Test
    void modelTwiceInOneChainIsRejected() {
        String yaml = replaceLine(valid(), "  - [teacher, student]", "  - [teacher, student, teacher]  " + MARK);
        ConfigException e = error(yaml);
        assertLocated(e, yaml, "chains[0]");
        assertContains(e, "'teacher' appears twice in the chain");
    }

    @Test
    void duplicateSeedPointsAtTheSecondOccurrence() {
        String yaml = valid() + """
                seeds:
                  - 5
                  - 6
                  - 5  # <-
                """;
        ConfigException e = error(yaml);
        assertLocated(e, yaml, "seeds");
        assertContains(e, "seed 5 appears twice");
    }

    @Test
    void emptySeedListIsRejected() {
        ConfigException e = error(valid() + "seeds: []  " + MARK + "\n");
        assertContains(e, "seeds: give at least one seed");
    }

    @Test
    void keyWrittenTwiceIsRejected() {
        String yaml = valid() + "seed: 8  " + MARK + "\n";
        ConfigException e = error(yaml);
        assertLocated(e, yaml, "seed");
        assertContains(e, "key appears twice");
    }

    // ---------------------------------------------------------------- --set overrides

    @Test
    void setOverridesNestedValues() {
        ExperimentConfig c = load(valid(), "distillation.temperature=2", "models.student.training.epochs=1");
        assertEquals(2.0, c.distillation().temperature());
        assertEquals(2.0, c.chains().get(0).distillation().temperature(), "chains inherit the overridden default");
        assertEquals(DistillationSettings.DEFAULTS.softWeight(), c.distillation().softWeight(),
                "the other settings are kept");
        assertEquals(1, ((ModelConfig.Declared) c.models().get("student")).training().epochs());
        assertEquals(16, ((ModelConfig.Declared) c.models().get("student")).training().batchSize(),
                "sibling keys are kept");
        assertEquals(2, ((ModelConfig.Declared) c.models().get("teacher")).training().epochs(),
                "other models are untouched");
        assertTrue(c.effectiveYaml().contains("temperature: 2"), c.effectiveYaml());
    }

    @Test
    void setCreatesMappingsThatAreMissing() {
        // drop the teacher's training mapping so that --set has to create it
        String yaml = valid().replace("    training: {epochs: 2, learning_rate: 0.01}\n", "");
        ExperimentConfig c = load(yaml, "models.teacher.training.epochs=4");
        assertEquals(4, ((ModelConfig.Declared) c.models().get("teacher")).training().epochs());
    }

    @Test
    void setReplacesAListWithAList() {
        ExperimentConfig c = load(valid() + "seeds: [0, 1, 2]\n", "seeds=[5,6]");
        assertEquals(List.of(5L, 6L), c.seeds());
        ExperimentConfig added = load(valid(), "seeds=[5, 6]");
        assertEquals(List.of(5L, 6L), added.seeds());
    }

    @Test
    void setWithoutEqualsSignSaysWhatItExpects() {
        ConfigException e = error(valid(), "distillation.temperature");
        assertEquals("--set distillation.temperature: expected key.path=value", e.getMessage());
    }

    @Test
    void setThroughASingleValueNamesTheOverride() {
        ConfigException e = error(valid(), "name.first=x");
        assertTrue(e.getMessage().startsWith("--set name.first=x: name: "), e.getMessage());
        assertContains(e, "is not a mapping");
    }

    @Test
    void setWithAValueOfTheWrongTypeIsLocatedAtTheOverrideNotTheFile() {
        ConfigException e = error(valid(), "models.student.training.epochs=ten");
        assertEquals("--set models.student.training.epochs=ten: models.student.training.epochs: "
                + "expected an integer, found 'ten'", e.getMessage());
    }

    @Test
    void setOfAnUnknownKeyIsLocatedAtTheOverrideAndSuggestsTheNearestKey() {
        ConfigException e = error(valid(), "distillation.temprature=2");
        assertTrue(e.getMessage().startsWith("--set distillation.temprature=2: distillation.temprature: "
                + "unknown key; known keys here: temperature, "), e.getMessage());
    }

    @Test
    void setWithMalformedYamlValueNamesTheOverride() {
        ConfigException e = error(valid(), "seeds=[1,");
        assertTrue(e.getMessage().startsWith("--set seeds=[1,"), e.getMessage());
        assertContains(e, "malformed YAML");
    }

    @Test
    void setOfADuplicateSeedNamesTheOverride() {
        ConfigException e = error(valid(), "seeds=[3, 3]");
        assertTrue(e.getMessage().startsWith("--set seeds=[3, 3]: seeds: seed 3 appears twice"), e.getMessage());
    }

    // ---------------------------------------------------------------- files

    @Test
    void missingConfigFileIsADistillExceptionNamingIt() {
        Path missing = dir.resolve("nope.yaml");
        DistillException e = assertThrows(DistillException.class, () -> ConfigLoader.load(missing));
        assertEquals(missing + ": config file not found", e.getMessage());
    }

    @Test
    void missingDataFileIsLocatedAtItsKey() {
        String yaml = """
                name: csv
                data:
                  dataset: csv
                  train: no-such.csv  # <-
                  input: {features: 4}
                  classes: 2
                models:
                  teacher: {layers: [{type: output}]}
                  student: {layers: [{type: output}]}
                chains: [[teacher, student]]
                """;
        ConfigException e = error(yaml);
        assertLocated(e, yaml, "data.train");
        assertContains(e, "file not found: " + dir.resolve("no-such.csv"));
    }

    @Test
    void everyErrorIsOneLine() {
        for (String[] bad : List.of(
                new String[] {replaceLine(valid(), "  classes: 10", "  classes: 10: 11")},
                new String[] {valid().replace("chains:", "chain:")},
                new String[] {valid(), "seeds=[1,"})) {
            ConfigException e = error(bad[0], Arrays.copyOfRange(bad, 1, bad.length));
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
    }

    // ---------------------------------------------------------------- helpers

    /** A small valid config on the shipped digits file; tests change one line of it. */
    private static String valid() {
        return """
                name: small
                seed: 7
                data:
                  dataset: digits
                  path: '%s'
                  classes: 10
                models:
                  teacher:
                    layers:
                      - {type: conv2d, filters: 4, kernel: 3}
                      - {type: max_pool, size: 2}
                      - {type: dense, units: 16}
                      - {type: output}
                    training: {epochs: 2, learning_rate: 0.01}
                  student:
                    layers:
                      - {type: dense, units: 8}
                      - {type: output, classes: 10}
                    training:
                      epochs: 3
                      batch_size: 16
                chains:
                  - [teacher, student]
                """.formatted(CliRun.repoFile("datasets/digits.csv.gz"));
    }

    private static String replaceLine(String yaml, String line, String replacement) {
        List<String> lines = yaml.lines().toList();
        assertEquals(1, lines.stream().filter(line::equals).count(), "exactly one line '" + line + "'");
        return String.join("\n", lines.stream().map(l -> l.equals(line) ? replacement : l).toList()) + "\n";
    }

    private Path configFile() {
        return dir.resolve("config.yaml");
    }

    private ExperimentConfig load(String yaml, String... overrides) {
        write(yaml);
        return ConfigLoader.load(configFile(), List.of(overrides));
    }

    private ConfigException error(String yaml, String... overrides) {
        write(yaml);
        return assertThrows(ConfigException.class, () -> ConfigLoader.load(configFile(), List.of(overrides)));
    }

    private void write(String yaml) {
        try {
            Files.writeString(configFile(), yaml);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** "file:line: keyPath: problem" with the line of the {@code # <-} marker. */
    private void assertLocated(ConfigException e, String yaml, String keyPath) {
        String expected = configFile() + ":" + lineOf(yaml, MARK) + ": " + (keyPath.isEmpty() ? "" : keyPath + ": ");
        assertTrue(e.getMessage().startsWith(expected), "expected '" + expected + "...', got '" + e.getMessage() + "'");
    }

    private static void assertContains(Exception e, String part) {
        assertTrue(e.getMessage().contains(part), "expected '" + part + "' in '" + e.getMessage() + "'");
    }

    /** 1-based line of the first line containing {@code marker}. */
    private static int lineOf(String yaml, String marker) {
        List<String> lines = yaml.lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(marker)) {
                return i + 1;
            }
        }
        throw new AssertionError("no line with '" + marker + "'");
    }

    /** The line number of a "file:line: ..." message. */
    private int lineOf(ConfigException e) {
        String prefix = configFile() + ":";
        assertTrue(e.getMessage().startsWith(prefix), e.getMessage());
        String rest = e.getMessage().substring(prefix.length());
        return Integer.parseInt(rest.substring(0, rest.indexOf(':')));
    }

}
