package dev.distill.runner.config;

import dev.distill.runner.pipeline.ExperimentPlan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.DistillException;
import dev.distill.core.chain.Plan;
import dev.distill.runner.testing.CliRun;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Configs that must be refused before anything trains, each in one line saying what is wrong and
 * where: a loop across chains, a plan of thousands of trainings without {@code --yes}, a file far
 * larger than any config (refused before SnakeYAML reads it), the billion-laughs file, 10,000-deep
 * nesting, bytes that are not UTF-8. And a fuzz of the config reader: mutations of the shipped config
 * load or end in one line.
 */
class ConfigLimitsTest {

    @TempDir
    Path dir;

    static final Path SHIPPED = CliRun.repoFile("configs/digits-takd.yaml");

    static String shipped() throws IOException {
        return Files.readString(SHIPPED);
    }

    /** Loads {@code yaml} as a config in the shipped config's directory (its relative paths resolve). */
    DistillException refused(String yaml) throws IOException {
        return refused(yaml.getBytes(StandardCharsets.UTF_8));
    }

    DistillException refused(byte[] bytes) throws IOException {
        Path file = Files.write(dir.resolve("config.yaml"), bytes);
        DistillException e = assertThrows(DistillException.class,
                () -> ConfigLoader.load(file, List.of(), SHIPPED.getParent()));
        assertEquals(1, e.getMessage().lines().count(), "one line: " + e.getMessage());
        assertTrue(e.getMessage().startsWith(file.toString()), "names the file: " + e.getMessage());
        return e;
    }

    @Test
    void aLoopAcrossChainsIsRefusedAtTheChainThatClosesIt() throws IOException {
        String yaml = shipped().replace("  - [teacher, assistant, student]   # TAKD",
                "  - [teacher, assistant, student]   # TAKD\n  - [student, teacher]");
        String m = refused(yaml).getMessage();
        int line = 1 + yaml.lines().toList().indexOf("  - [student, teacher]");
        assertTrue(m.contains("config.yaml:" + line + ": chains[2]"), m);
        assertTrue(m.contains("'student' -> 'teacher' closes a loop") && m.contains("teacher -> student"), m);
    }

    @Test
    void aLoopThroughAnAssistantIsRefusedToo() throws IOException {
        String yaml = shipped().replace("  - [teacher, assistant, student]   # TAKD",
                "  - [teacher, assistant, student]   # TAKD\n  - [student, assistant]");
        assertTrue(refused(yaml).getMessage().contains("(assistant -> student)"));
    }

    @Test
    void aLoopInsideOneChainIsRefused() throws IOException {
        String yaml = shipped().replace("  - [teacher, student]              # plain KD",
                "  - [teacher, student, teacher]");
        assertTrue(refused(yaml).getMessage().contains("'teacher' appears twice in the chain"));
    }

    @Test
    void chainsThatShareModelsWithoutALoopStillLoad() throws IOException {
        Path file = Files.writeString(dir.resolve("config.yaml"), shipped().replace("  - [teacher, assistant, "
                + "student]   # TAKD", "  - [teacher, assistant, student]   # TAKD\n  - [assistant, student]"));
        assertEquals(3, ConfigLoader.load(file, List.of(), SHIPPED.getParent()).chains().size());
    }

    @Test
    void thePlanCountsEveryTrainingOverTheSeeds() {
        ExperimentConfig c = ConfigLoader.load(SHIPPED);
        // teacher and assistant once; two distilled students and the baseline over 3 seeds
        assertEquals(1 + 1 + 3 + 3 + 3, ExperimentPlan.trainings(ExperimentPlan.of(c), c));
    }

    @Test
    void tenThousandSeedsAskForYesWithThePlansSize() {
        String seeds = IntStream.range(0, 10_000).mapToObj(Integer::toString).collect(Collectors.joining(",", "[", "]"));
        Path out = dir.resolve("run");
        CliRun r = CliRun.of("run", SHIPPED.toString(), "--out", out.toString(), "--set", "seeds=" + seeds);
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("the plan trains 30,002 models") && r.err().contains("--yes"), r.err());
        assertFalse(Files.exists(out), "nothing started");
        CliRun validate = CliRun.of("validate", SHIPPED.toString(), "--set", "seeds=" + seeds);
        assertEquals(0, validate.code(), validate.err());
        assertTrue(validate.out().contains("30,002 training run(s) over 10000 seed(s) (more than 200: distill run asks "
                + "for --yes)"), validate.out());
    }

    @Test
    void aFileOfManyMegabytesIsRefusedBeforeYamlReadsIt() throws IOException {
        StringBuilder big = new StringBuilder(shipped());
        while (big.length() < 8 << 20) {
            big.append("# padding padding padding padding padding padding padding padding padding padding\n");
        }
        long start = System.nanoTime();
        String m = refused(big.toString()).getMessage();
        assertTrue(m.contains("more than 1,048,576 bytes; a config is a few KB"), m);
        assertTrue(System.nanoTime() - start < 2_000_000_000L, "refused without parsing 8 MB");
    }

    @Test
    void theBillionLaughsFileIsRefusedAtTheFirstAliasTooMany() throws IOException {
        StringBuilder yaml = new StringBuilder("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (char c = 'b'; c <= 'i'; c++) {
            char p = (char) (c - 1);
            yaml.append(c).append(": &").append(c).append(" [").append(String.join(",", java.util.Collections.nCopies(9,
                    "*" + p))).append("]\n");
        }
        String m = refused(yaml.toString()).getMessage();
        // 9 aliases a line from line 2: the 51st is on line 7
        assertTrue(m.contains("config.yaml:7: more than 50 aliases"), m);
    }

    @Test
    void tenThousandDeepNestingIsRefusedWithItsLine() throws IOException {
        String yaml = "name: deep\nmodels:\n  x: " + "[".repeat(10_000) + "]".repeat(10_000) + "\n";
        String m = refused(yaml).getMessage();
        assertTrue(m.contains("config.yaml:3: nested more than 50 levels deep"), m);
    }

    @Test
    void deepNestingInASetOptionIsRefusedNamingTheOption() throws IOException {
        Path file = Files.writeString(dir.resolve("config.yaml"), shipped());
        String value = "[".repeat(10_000) + "]".repeat(10_000);
        DistillException e = assertThrows(DistillException.class,
                () -> ConfigLoader.load(file, List.of("seeds=" + value), SHIPPED.getParent()));
        assertTrue(e.getMessage().startsWith("--set seeds=[[[") && e.getMessage().contains("nested more than 50"),
                e.getMessage().substring(0, 200));
    }

    @Test
    void bytesThatAreNotUtf8AreLocatedByLineAndOffset() throws IOException {
        byte[] text = shipped().getBytes(StandardCharsets.UTF_8);
        int at = shipped().indexOf("name: digits-takd") + 8;
        text[at] = (byte) 0xE9;
        String m = refused(text).getMessage();
        int line = 1 + (int) shipped().substring(0, at).chars().filter(c -> c == '\n').count();
        assertTrue(m.contains("config.yaml:" + line + ": not UTF-8 text: byte 0xe9 at byte offset " + at), m);
        assertFalse(m.contains("Input length"), m);
    }

    static final String YAML_PUNCTUATION = "[]{}:,&*!|>-#'\" \n\t0";

    @Test
    void aDirectoryOrADeviceAsTheConfigIsSaidToBeOne() throws IOException {
        Path folder = Files.createDirectory(dir.resolve("configs.yaml"));
        DistillException d = assertThrows(DistillException.class, () -> ConfigLoader.load(folder));
        assertEquals(folder + ": is a directory, not a config file", d.getMessage());
        DistillException z = assertThrows(DistillException.class, () -> ConfigLoader.load(Path.of("/dev/zero")));
        assertEquals("/dev/zero: not a regular file (a device, FIFO or socket); name a config file", z.getMessage());
    }

    /** Mutations of the shipped config: each loads, or ends in one line naming the file. */
    @Test
    void everyMutatedConfigLoadsOrIsRefusedInOneLine() throws IOException {
        byte[] real = shipped().getBytes(StandardCharsets.UTF_8);
        Random random = new Random(4);
        Path file = dir.resolve("fuzz.yaml");
        int tried = 0;
        int loaded = 0;
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < 1500; i++) {
            byte[] b;
            if (i % 4 == 0) {
                b = java.util.Arrays.copyOf(real, random.nextInt(real.length));
            } else {
                b = real.clone();
                for (int k = 1 + random.nextInt(3); k > 0; k--) {
                    b[random.nextInt(b.length)] = (byte) (i % 4 == 1 ? random.nextInt(256)
                            : YAML_PUNCTUATION.charAt(random.nextInt(YAML_PUNCTUATION.length())));
                }
            }
            Files.write(file, b);
            tried++;
            try {
                ConfigLoader.load(file, List.of(), SHIPPED.getParent());
                loaded++;
            } catch (DistillException e) {
                if (e.getMessage().lines().count() != 1 || !e.getMessage().startsWith(file.toString())) {
                    failures.add(i + ": " + e.getMessage());
                }
            } catch (RuntimeException | StackOverflowError e) {
                failures.add(i + ": " + e);
            }
        }
        System.out.printf("fuzz config: %d tried, %d refused with one line, %d loaded, %d failures%n", tried,
                tried - loaded - failures.size(), loaded, failures.size());
        assertTrue(failures.isEmpty(), failures.size() + " not handled: " + failures.stream().limit(5).toList());
    }
}
