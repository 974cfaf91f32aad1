package dev.distill.runner.config;

import dev.distill.runner.pipeline.ExperimentPlan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.chain.Plan;
import dev.distill.runner.testing.CliRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code {born_again: model, generations: k}}: a chain of k generations of the model's own architecture. */
class BornAgainConfigTest {

    @TempDir
    Path dir;

    private Path config(String models, String chain) throws IOException {
        Path file = dir.resolve("c.yaml");
        Files.writeString(file, "name: ba\ndata: {dataset: digits, path: '" + CliRun.repoFile("datasets/digits.csv.gz")
                + "'}\nmodels:\n" + models + "chains:\n  - " + chain + "\nseeds: [0]\n");
        return file;
    }

    private static final String NET = "  net:\n    layers: [{type: dense, units: 8}, {type: output}]\n    training: {epochs: 2}\n";

    @Test
    void generationsHaveTheTeachersArchitectureAndEachTeachesTheNext() throws IOException {
        ExperimentConfig c = ConfigLoader.load(config(NET, "{born_again: net, generations: 3, distillation: {temperature: 2}}"));
        assertEquals(List.of("net", "net_gen1", "net_gen2", "net_gen3"), c.chains().get(0).models());
        ModelConfig.Declared net = (ModelConfig.Declared) c.models().get("net");
        for (int g = 1; g <= 3; g++) {
            ModelConfig.Declared gen = (ModelConfig.Declared) c.models().get("net_gen" + g);
            assertEquals(net.network(), gen.network());
            assertEquals(net.training(), gen.training());
        }
        assertEquals(2.0, c.chains().get(0).distillation().temperature());
        List<String> ids = ExperimentPlan.of(c).nodes().stream().map(Plan.Node::id).toList();
        assertEquals(List.of("net", "net_gen1-from-net", "net_gen2-from-net_gen1", "net_gen3-from-net_gen2",
                "net_gen3-baseline"), ids, "the last generation is compared with the same network trained alone");
    }

    @Test
    void twoGenerationsByDefault() throws IOException {
        assertEquals(3, ConfigLoader.load(config(NET, "{born_again: net}")).chains().get(0).models().size());
    }

    @Test
    void badBornAgainChainsAreOneLineAtTheKey() throws IOException {
        assertRefused(config(NET, "{born_again: nett}"), "c.yaml:8: chains[0].born_again", "no model named 'nett'");
        assertRefused(config(NET, "{born_again: net, generations: 0}"), "chains[0].generations", "between 1 and 10");
        assertRefused(config(NET, "{born_again: net, generations: 11}"), "chains[0].generations", "between 1 and 10");
        assertRefused(config(NET, "{born_again: net, models: [net]}"), "chains[0]", "models");
        Files.writeString(dir.resolve("m.zip"), "x");
        assertRefused(config(NET + "  loaded: {file: m.zip}\n", "{born_again: loaded}"), "born_again",
                "needs a declared model");
        assertRefused(config(NET + "  net_gen1:\n    layers: [{type: dense, units: 4}, {type: output}]\n",
                "{born_again: net}"), "born_again", "would replace a declared model");
    }

    private static void assertRefused(Path file, String where, String what) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));
        assertTrue(e.getMessage().contains(where) && e.getMessage().contains(what), e.getMessage());
    }
}
