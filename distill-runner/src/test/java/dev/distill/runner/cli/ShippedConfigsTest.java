package dev.distill.runner.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.runner.data.Datasets;
import dev.distill.runner.testing.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every shipped config passes {@code distill validate} on a fresh clone: a copy of configs/, datasets/
 * and tools/ without runs/. A config whose teacher another config trains ({@code from:}) says that run
 * trains it first; one whose teacher another program writes (the PyTorch ONNX teacher) fails in one line
 * that names the command making it, a script the clone has. Configs on Fashion-MNIST are skipped, with
 * the reason, where its Debian package is not installed.
 */
class ShippedConfigsTest {

    @TempDir
    static Path clone;

    @BeforeAll
    static void freshClone() throws Exception {
        for (String dir : List.of("configs", "datasets", "tools")) {
            CliRun.copyTree(CliRun.repoFile(dir), clone.resolve(dir));
        }
        assertFalse(Files.exists(clone.resolve("runs")));
    }

    @TestFactory
    Stream<DynamicTest> everyShippedConfigValidatesOnAFreshClone() throws Exception {
        List<Path> configs;
        try (Stream<Path> files = Files.list(clone.resolve("configs"))) {
            configs = files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        assertTrue(configs.size() >= 20, "the shipped configs: " + configs);
        return configs.stream().map(config -> DynamicTest.dynamicTest(config.getFileName().toString(), () -> {
            // the config without its comments, which may show other settings
            String text = Files.readString(config).replaceAll("(?m)^\\s*#.*$", "");
            Assumptions.assumeTrue(!text.contains("dataset: fashion-mnist") || Files.isDirectory(Datasets.FASHION_MNIST_DIR),
                    "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist): " + config.getFileName());
            CliRun r = CliRun.of("validate", config.toString());
            if (text.contains("made_by:") && r.code() != 0) {
                // a teacher another program writes: the one line names the command, whose script the clone has
                assertEquals(DistillCli.BAD_INPUT, r.code());
                assertEquals(1, r.err().lines().count(), r.err());
                Matcher command = Pattern.compile("make it with: .*python3 (tools/\\S+\\.py) ").matcher(r.err());
                assertTrue(command.find(), r.err());
                assertTrue(Files.isRegularFile(clone.resolve(command.group(1))), command.group(1));
                return;
            }
            assertEquals(0, r.code(), config.getFileName() + ": " + r.err());
            assertTrue(r.out().contains(": OK."), r.out());
            if (text.contains("from: fashion-mnist-takd.yaml")) {
                assertTrue(r.out().contains("distill run trains fashion-mnist-takd.yaml into"), r.out());
            }
        }));
    }
}
