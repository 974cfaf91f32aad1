package dev.distill.runner.pipeline;

import dev.distill.core.chain.Plan;

import dev.distill.core.chain.Role;

import dev.distill.runner.testing.CliRun;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.DistillException;
import dev.distill.runner.config.ConfigLoader;
import dev.distill.core.chain.DistillationSettings;
import dev.distill.runner.config.ExperimentConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The plan of a config's chains: order, ids, roles, parents, baselines; nothing trains here. */
class PlanTest {

    @TempDir
    Path dir;

    // ---------------------------------------------------------------- the shipped digits config

    @Test
    void digitsConfigPlansTheSharedTeacherOnceThenBothChainsThenTheBaseline() {
        Plan plan = ExperimentPlan.of(ConfigLoader.load(CliRun.repoFile("configs/digits-takd.yaml")));
        assertEquals(List.of("teacher", "student-from-teacher", "assistant-from-teacher", "student-from-assistant",
                "student-baseline"), ids(plan));
        Map<String, Plan.Node> byId = byId(plan);

        assertNode(byId.get("teacher"), "teacher", Role.TEACHER, null);
        assertNode(byId.get("student-from-teacher"), "student", Role.STUDENT, "teacher");
        assertNode(byId.get("assistant-from-teacher"), "assistant", Role.ASSISTANT, "teacher");
        assertNode(byId.get("student-from-assistant"), "student", Role.STUDENT, "assistant-from-teacher");
        assertNode(byId.get("student-baseline"), "student", Role.BASELINE, null);

        assertEquals(1, plan.nodes().stream().filter(n -> n.model().equals("teacher")).count(),
                "the teacher both chains start with is trained once");
        assertParentsComeFirst(plan);
    }

    @Test
    void digitsConfigLinksCarryTheDistillationSettingsAndBaselinesAreNotDistilled() {
        Plan plan = ExperimentPlan.of(ConfigLoader.load(CliRun.repoFile("configs/digits-takd.yaml")));
        for (Plan.Node node : plan.nodes()) {
            boolean link = node.role() == Role.STUDENT || node.role() == Role.ASSISTANT;
            assertEquals(link, node.distilled(), node.id());
            if (link) {
                assertEquals(new DistillationSettings(1, 0.5, 0.5), node.distillation(), node.id());
            } else {
                assertNull(node.distillation(), node.id());
            }
            assertEquals(node.role() == Role.STUDENT || node.role() == Role.BASELINE, node.perSeed(), node.id());
        }
    }

    @Test
    void noBaselinesWhenBaselineIsFalse() {
        Plan plan = ExperimentPlan.of(ConfigLoader.load(CliRun.repoFile("configs/digits-takd.yaml"), List.of("baseline=false")));
        assertEquals(List.of("teacher", "student-from-teacher", "assistant-from-teacher", "student-from-assistant"),
                ids(plan));
        assertTrue(plan.nodes().stream().noneMatch(n -> n.role() == Role.BASELINE));
    }

    // ---------------------------------------------------------------- ids

    @Test
    void idsNameTheWholePathWhenTwoPathsWouldShareAShortId() throws IOException {
        Plan plan = plan(List.of("t", "a", "b", "s"), "[t, a, s]", "[t, b, a, s]");
        Map<String, Plan.Node> byId = byId(plan);
        assertEquals(Set.of("t", "a-from-t", "b-from-t", "a-from-b", "s-from-a-from-t", "s-from-a-from-b-from-t",
                "s-baseline"), byId.keySet());
        assertEquals(plan.nodes().size(), byId.size(), "ids are unique: " + ids(plan));

        assertNode(byId.get("s-from-a-from-t"), "s", Role.STUDENT, "a-from-t");
        assertNode(byId.get("s-from-a-from-b-from-t"), "s", Role.STUDENT, "a-from-b");
        assertNode(byId.get("a-from-b"), "a", Role.ASSISTANT, "b-from-t");
        assertNode(byId.get("a-from-t"), "a", Role.ASSISTANT, "t");
        assertNode(byId.get("b-from-t"), "b", Role.ASSISTANT, "t");
        assertNode(byId.get("s-baseline"), "s", Role.BASELINE, null);
        assertParentsComeFirst(plan);
    }

    @Test
    void studentsOfTwoDifferentTeachersGetShortIdsAndOneBaseline() throws IOException {
        Plan plan = plan(List.of("t1", "t2", "s"), "[t1, s]", "[t2, s]");
        assertEquals(List.of("t1", "t2", "s-from-t1", "s-from-t2", "s-baseline"), ids(plan));
        assertEquals(Role.TEACHER, byId(plan).get("t2").role());
        assertParentsComeFirst(plan);
    }

    @Test
    void aChainGivenTwiceIsPlannedOnce() throws IOException {
        Plan plan = plan(List.of("t", "s"), "[t, s]", "[t, s]");
        assertEquals(List.of("t", "s-from-t", "s-baseline"), ids(plan));
    }

    @Test
    void everyDistinctStudentModelGetsOneBaseline() throws IOException {
        Plan plan = plan(List.of("t", "a", "s", "s2"), "[t, a, s]", "[t, s2]", "[t, s]");
        List<String> baselines = plan.nodes().stream().filter(n -> n.role() == Role.BASELINE).map(Plan.Node::id)
                .toList();
        assertEquals(Set.of("s-baseline", "s2-baseline"), Set.copyOf(baselines));
        assertEquals(2, baselines.size(), "s ends two chains but has one baseline: " + baselines);
        assertEquals(Role.ASSISTANT, byId(plan).get("a-from-t").role());
        assertParentsComeFirst(plan);
    }

    @Test
    void baselinesComeLastAndOnlyForStudents() throws IOException {
        Plan plan = plan(List.of("t", "a", "s"), "[t, a, s]");
        assertEquals(List.of("t", "a-from-t", "s-from-a", "s-baseline"), ids(plan));
    }

    // ---------------------------------------------------------------- distillation settings per link

    @Test
    void aChainsOwnDistillationSettingsApplyToItsLinksOnly() throws IOException {
        Plan plan = plan(List.of("t", "a", "s"), "{models: [t, s], distillation: {temperature: 2}}", "[t, a, s]");
        Map<String, Plan.Node> byId = byId(plan);
        assertEquals(new DistillationSettings(2, DistillationSettings.DEFAULTS.softWeight(),
                DistillationSettings.DEFAULTS.hardWeight()), byId.get("s-from-t").distillation());
        assertEquals(DistillationSettings.DEFAULTS, byId.get("a-from-t").distillation());
        assertEquals(DistillationSettings.DEFAULTS, byId.get("s-from-a").distillation());
    }

    @Test
    void chainsThatDisagreeOnTheSettingsOfOneLinkAreRejectedWhenLoaded() {
        // caught by the config loader, at the second chain's line, before any plan is made
        DistillException e = assertThrows(DistillException.class, () -> config(List.of("t", "s"), "[t, s]",
                "{models: [t, s], distillation: {temperature: 2}}"));
        assertTrue(e.getMessage().contains("plan.yaml:8: chains[1]"), e.getMessage());
        assertTrue(e.getMessage().contains("t -> s"), e.getMessage());
    }

    // ---------------------------------------------------------------- helpers

    private static void assertNode(Plan.Node node, String model, Role role, String parentId) {
        assertEquals(model, node.model(), node.id());
        assertEquals(role, node.role(), node.id());
        assertEquals(parentId, node.parentId(), node.id());
        assertEquals(parentId != null, node.distilled(), node.id());
    }

    private static void assertParentsComeFirst(Plan plan) {
        Set<String> seen = new HashSet<>();
        for (Plan.Node node : plan.nodes()) {
            if (node.parentId() != null) {
                assertTrue(seen.contains(node.parentId()),
                        node.id() + " comes before its parent " + node.parentId() + ": " + ids(plan));
            }
            assertTrue(seen.add(node.id()), "id " + node.id() + " twice: " + ids(plan));
        }
        assertFalse(seen.isEmpty());
    }

    private static List<String> ids(Plan plan) {
        return plan.nodes().stream().map(Plan.Node::id).toList();
    }

    private static Map<String, Plan.Node> byId(Plan plan) {
        return plan.nodes().stream().collect(Collectors.toMap(Plan.Node::id, n -> n, (a, b) -> {
            throw new AssertionError("id " + a.id() + " twice");
        }, LinkedHashMap::new));
    }

    private Plan plan(List<String> models, String... chains) throws IOException {
        return ExperimentPlan.of(config(models, chains));
    }

    /** A config on the shipped digits file with one small dense model per name and the given chains. */
    private ExperimentConfig config(List<String> models, String... chains) throws IOException {
        StringBuilder yaml = new StringBuilder("""
                name: plan
                data: {dataset: digits, path: '%s'}
                models:
                """.formatted(CliRun.repoFile("datasets/digits.csv.gz")));
        for (String model : models) {
            yaml.append("  ").append(model).append(": {layers: [{type: dense, units: 4}, {type: output}]}\n");
        }
        yaml.append("chains:\n");
        for (String chain : chains) {
            yaml.append("  - ").append(chain).append('\n');
        }
        Path file = Files.writeString(dir.resolve("plan.yaml"), yaml);
        return ConfigLoader.load(file);
    }

}
