package dev.distill.runner.config;

import dev.distill.runner.pipeline.ExperimentPlan;

import dev.distill.core.chain.Role;

import dev.distill.core.chain.Chain;

import dev.distill.core.chain.DistillationSettings;

import dev.distill.runner.testing.CliRun;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.chain.Plan;
import dev.distill.core.train.TrainingSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shipped configs load into the records they mean; overrides and the plan built from them. */
class ConfigLoaderTest {


    @Test
    void shippedFashionMnistConfigIsTheProtocol() {
        ExperimentConfig c = ConfigLoader.load(CliRun.repoFile("configs/fashion-mnist-takd.yaml"));
        assertEquals("fashion-mnist-takd", c.name());
        assertInstanceOf(DataSource.FashionMnist.class, c.data().source());
        assertEquals(128, c.data().batchSize());
        assertEquals(new DistillationSettings(4, 0.9, 0.1), c.distillation());
        assertEquals(List.of(0L, 1L, 2L), c.seeds());
        assertTrue(c.baseline());
        ModelConfig.Declared teacher = (ModelConfig.Declared) c.models().get("teacher");
        assertEquals(824_458, teacher.cost().params());
        assertEquals(105_866, ((ModelConfig.Declared) c.models().get("assistant")).cost().params());
        assertEquals(25_450, ((ModelConfig.Declared) c.models().get("student")).cost().params());
        assertEquals(10, teacher.training().epochs());
        assertEquals(1e-3, teacher.training().learningRate());
        assertEquals(List.of(List.of("teacher", "student"), List.of("teacher", "assistant", "student")),
                c.chains().stream().map(Chain::models).toList());
    }

    @Test
    void planTrainsTheSharedTeacherOnceAndEveryParentFirst() {
        Plan plan = ExperimentPlan.of(ConfigLoader.load(CliRun.repoFile("configs/digits-takd.yaml")));
        List<String> ids = plan.nodes().stream().map(Plan.Node::id).toList();
        assertEquals(List.of("teacher", "student-from-teacher", "assistant-from-teacher", "student-from-assistant",
                "student-baseline"), ids);
        assertEquals(List.of(Role.TEACHER, Role.STUDENT, Role.ASSISTANT, Role.STUDENT, Role.BASELINE),
                plan.nodes().stream().map(Plan.Node::role).toList());
        assertEquals("assistant-from-teacher", plan.nodes().get(3).parentId());
        for (Plan.Node n : plan.nodes()) {
            if (n.parentId() != null) {
                assertTrue(ids.indexOf(n.parentId()) < ids.indexOf(n.id()), n.id() + " after its teacher");
            }
        }
    }

    @Test
    void overridesReachNestedValuesAndLists() {
        ExperimentConfig c = ConfigLoader.load(CliRun.repoFile("configs/digits-takd.yaml"),
                List.of("distillation.temperature=2", "models.student.training.epochs=3", "seeds=[5, 6]",
                        "baseline=false"));
        assertEquals(2.0, c.distillation().temperature());
        assertEquals(0.5, c.distillation().softWeight());
        assertEquals(3, ((ModelConfig.Declared) c.models().get("student")).training().epochs());
        assertEquals(List.of(5L, 6L), c.seeds());
        assertTrue(c.effectiveYaml().contains("temperature: 2"), c.effectiveYaml());
        assertTrue(ExperimentPlan.of(c).nodes().stream().noneMatch(n -> n.role() == Role.BASELINE));
    }

    @Test
    void anOverrideOfAModelDeclaredByAnAliasChangesThatModelOnlyNotTheAnchorsOtherUses(@TempDir Path dir)
            throws IOException {
        Path file = dir.resolve("c.yaml");
        Files.writeString(file, "name: alias\ndata: {dataset: digits, path: " + CliRun.repoFile("datasets/digits.csv.gz")
                + "}\nmodels:\n  t: {layers: [{type: dense, units: 8}, {type: output}]}\n"
                + "  a: &mlp\n    layers: [{type: dense, units: 4}, {type: output}]\n    training: {epochs: 2}\n"
                + "  b: *mlp\n  c: *mlp\nchains:\n  - [t, a]\n  - [t, b]\n  - [t, c]\n");
        ExperimentConfig c = ConfigLoader.load(file, List.of("models.b.training.epochs=5",
                "models.b.training.augment={shift: 1}", "models.c.training.epochs=7"));
        java.util.function.Function<String, TrainingSpec> training =
                name -> ((ModelConfig.Declared) c.models().get(name)).training();
        assertEquals(2, training.apply("a").epochs());
        assertEquals(5, training.apply("b").epochs());
        assertEquals(7, training.apply("c").epochs());
        assertTrue(training.apply("b").augment().active());
        assertTrue(!training.apply("a").augment().active() && !training.apply("c").augment().active());
        // an error in the copy names the model it was set on, at the anchor's line
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file,
                List.of("models.b.training.epochs=0")));
        assertTrue(e.getMessage().contains("c.yaml:7: models.b.training: epochs must be a positive integer"),
                e.getMessage());
    }

    @Test
    void overrideOfAnUnknownKeyIsRejectedWithItsSource() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(
                CliRun.repoFile("configs/digits-takd.yaml"), List.of("distillation.temprature=2")));
        assertTrue(e.getMessage().startsWith("--set distillation.temprature=2"), e.getMessage());
        assertTrue(e.getMessage().contains("temperature"), e.getMessage());
    }

    @Test
    void ambiguousShortIdsFallBackToTheWholePath(@TempDir Path dir) throws IOException {
        String mlp = "    layers: [{type: dense, units: 4}, {type: output}]\n";
        Path file = dir.resolve("c.yaml");
        Files.writeString(file, "name: ids\ndata: {dataset: digits, path: " + CliRun.repoFile("datasets/digits.csv.gz") + "}\n"
                + "models:\n  t:\n" + mlp + "  a:\n" + mlp + "  b:\n" + mlp + "  s:\n" + mlp
                + "chains:\n  - [t, a, s]\n  - [t, b, a, s]\nbaseline: false\n");
        List<String> ids = ExperimentPlan.of(ConfigLoader.load(file)).nodes().stream().map(Plan.Node::id).toList();
        assertEquals(List.of("t", "a-from-t", "b-from-t", "s-from-a-from-t", "a-from-b", "s-from-a-from-b-from-t"),
                ids);
    }

    @Test
    void pretrainedModelMayOnlyStartAChain(@TempDir Path dir) throws IOException {
        Path model = Files.writeString(dir.resolve("m.zip"), "not read at config time");
        Path file = dir.resolve("c.yaml");
        Files.writeString(file, "name: p\ndata: {dataset: digits, path: " + CliRun.repoFile("datasets/digits.csv.gz") + "}\n"
                + "models:\n  t:\n    layers: [{type: output}]\n  p: {file: m.zip}\n"
                + "chains:\n  - [t, p]\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));
        assertTrue(e.getMessage().contains("c.yaml:8") && e.getMessage().contains("only be the first model"),
                e.getMessage());
        assertTrue(Files.exists(model));
    }

    @Test
    void duplicateSeedAndOneModelChainAreRejected(@TempDir Path dir) throws IOException {
        String base = "name: p\ndata: {dataset: digits, path: " + CliRun.repoFile("datasets/digits.csv.gz") + "}\n"
                + "models:\n  t:\n    layers: [{type: output}]\n  s:\n    layers: [{type: output}]\n";
        Path file = dir.resolve("c.yaml");
        Files.writeString(file, base + "chains: [[t, s]]\nseeds: [1, 1]\n");
        assertTrue(assertThrows(ConfigException.class, () -> ConfigLoader.load(file)).getMessage()
                .contains("seed 1 appears twice"));
        Files.writeString(file, base + "chains: [[t]]\n");
        assertTrue(assertThrows(ConfigException.class, () -> ConfigLoader.load(file)).getMessage()
                .contains("at least a teacher and a student"));
    }
}
