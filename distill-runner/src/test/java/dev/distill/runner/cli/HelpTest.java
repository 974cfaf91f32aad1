package dev.distill.runner.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.runner.testing.CliRun;
import java.util.Set;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Every subcommand answers --help (and -h) with its usage, whatever it requires; a mistyped command is named. */
class HelpTest {

    private static Set<String> commands() {
        return new CommandLine(new DistillCli()).getSubcommands().keySet();
    }

    @Test
    void everySubcommandPrintsItsUsageOnHelpAndExitsZero() {
        assertTrue(commands().containsAll(Set.of("run", "bench", "validate", "export", "evaluate")), commands().toString());
        for (String command : commands()) {
            for (String flag : new String[] {"--help", "-h"}) {
                CliRun r = CliRun.of(command, flag);
                assertEquals(0, r.code(), command + " " + flag + ": " + r.err());
                assertTrue(r.out().contains("Usage: distill " + command), command + " " + flag + ":\n" + r.out());
                assertEquals("", r.err(), command + " " + flag);
            }
        }
    }

    @Test
    void helpCommandPrintsTheUsageOfTheCommandItNames() {
        CliRun r = CliRun.of("help", "bench");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("Usage: distill bench"), r.out());
    }

    @Test
    void aMistypedCommandGetsTheNearestOneSuggested() {
        CliRun swapped = CliRun.of("rnu", "configs/digits-takd.yaml");
        assertEquals(DistillCli.BAD_INPUT, swapped.code());
        assertEquals("error: unknown command 'rnu'; did you mean run?", swapped.err().lines().findFirst().orElseThrow()
                .replaceAll(" \\(commands:.*", ""));
        assertTrue(CliRun.of("valdiate", "x.yaml").err().contains("did you mean validate?"));
        assertTrue(CliRun.of("exprot").err().contains("did you mean export?"));
        CliRun unrelated = CliRun.of("train");
        assertEquals(DistillCli.BAD_INPUT, unrelated.code());
        assertTrue(unrelated.err().startsWith("error: unknown command 'train' (commands: run,"), unrelated.err());
    }

    @Test
    void editsCountASwapOfNeighboursAsOne() {
        assertEquals(1, CommandNames.edits("rnu", "run"));
        assertEquals(1, CommandNames.edits("bnech", "bench"));
        assertEquals(2, CommandNames.edits("stats", "status") + 1);
        assertEquals(0, CommandNames.edits("run", "run"));
    }
}
