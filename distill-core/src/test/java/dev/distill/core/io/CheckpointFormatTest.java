package dev.distill.core.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.train.TrainingState;
import dev.distill.models.network.Network;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The checkpoint format's versions: format 2 keeps the networks trained beside the checkpointed one (companions)
 * with their optimizer state and counters; a format-1 checkpoint (no {@code format} line) reads with none; a
 * format-2 checkpoint that lists a companion it does not hold, or a newer format, does not read.
 */
class CheckpointFormatTest {

    @TempDir
    Path temp;

    /** A network and a companion, each trained a few steps (so each has Adam's state and counters), checkpointed. */
    private Path checkpoint(MultiLayerNetwork net, MultiLayerNetwork companion) {
        for (MultiLayerNetwork n : List.of(net, companion)) {
            for (int i = 0; i < 3; i++) {
                n.fit(new org.nd4j.linalg.dataset.DataSet(ResumeTrainerTest.TRAIN.features(),
                        ResumeTrainerTest.TRAIN.oneHot()));
            }
        }
        CheckpointStore store = new CheckpointStore(temp.resolve("store"), 2);
        store.save(Network.of(net), new TrainingState(ResumeTrainerTest.TRAIN.size(), 0, 64, 1.5, 2, List.of(), 0,
                Double.NEGATIVE_INFINITY, null, 2, 11, 12, Map.of("regressor", Network.of(companion))));
        return store.dir().resolve(store.newestEntry().orElseThrow().file());
    }

    @Test
    void aCompanionComesBackWithItsParametersOptimizerStateAndCounters() throws IOException {
        MultiLayerNetwork companion = ResumeTrainerTest.fresh();
        Path file = checkpoint(ResumeTrainerTest.fresh(), companion);
        Network back = CheckpointStore.read(file).state().companions().get("regressor");
        MultiLayerNetwork fresh = ResumeTrainerTest.fresh();
        Network.of(fresh).copyTrainingStateFrom(back);
        assertArrayEquals(companion.params().toFloatVector(), fresh.params().toFloatVector(), 0f);
        assertArrayEquals(companion.getUpdater().getStateViewArray().toFloatVector(),
                fresh.getUpdater().getStateViewArray().toFloatVector(), 0f);
        assertEquals(3, fresh.getIterationCount());
    }

    @Test
    void aFormatOneCheckpointReadsWithNoCompanions() throws IOException {
        Path file = checkpoint(ResumeTrainerTest.fresh(), ResumeTrainerTest.fresh());
        Path old = rewrite(file, "old.zip", name -> name.startsWith("companion-") ? null : name,
                state -> state.replaceAll("(?m)^(format|companions)=.*\n", ""));
        CheckpointStore.Restored restored = CheckpointStore.read(old);
        assertTrue(restored.state().companions().isEmpty());
        assertEquals(64, restored.state().nextExample());
    }

    @Test
    void aMissingCompanionOrANewerFormatDoesNotRead() throws IOException {
        Path file = checkpoint(ResumeTrainerTest.fresh(), ResumeTrainerTest.fresh());
        Path damaged = rewrite(file, "damaged.zip", name -> name.startsWith("companion-") ? null : name, s -> s);
        IOException missing = assertThrows(IOException.class, () -> CheckpointStore.read(damaged));
        assertEquals("state.properties lists companions [regressor] but the checkpoint holds []", missing.getMessage());
        Path newer = rewrite(file, "newer.zip", name -> name, s -> s.replace("format=2", "format=3"));
        IOException future = assertThrows(IOException.class, () -> CheckpointStore.read(newer));
        assertEquals("checkpoint format 3, this version reads up to 2", future.getMessage());
    }

    /** A copy of {@code file} with entries renamed or dropped (null) and the state's text changed. */
    private Path rewrite(Path file, String name, UnaryOperator<String> entries, UnaryOperator<String> state)
            throws IOException {
        Path out = temp.resolve(name);
        try (ZipInputStream in = new ZipInputStream(Files.newInputStream(file));
                ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(out))) {
            for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
                byte[] content = in.readAllBytes();
                String kept = entries.apply(e.getName());
                if (kept == null) {
                    continue;
                }
                if (kept.equals("state.properties")) {
                    content = state.apply(new String(content, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
                }
                zip.putNextEntry(new ZipEntry(kept));
                zip.write(content);
                zip.closeEntry();
            }
        }
        return out;
    }
}
