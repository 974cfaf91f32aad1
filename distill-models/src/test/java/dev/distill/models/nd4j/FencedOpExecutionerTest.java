package dev.distill.models.nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class FencedOpExecutionerTest {

    @Test
    void installPutsTheFencedExecutionerUnderEveryOp() {
        NativeSafety.install();
        assertTrue(NativeSafety.active(), "executioner: " + Nd4j.getExecutioner().getClass());
        // a broadcast, a reduction along a dimension and a custom op give ND4J's answers through it
        INDArray m = Nd4j.createFromArray(new float[][] {{1, 2, 3}, {4, 5, 6}});
        assertEquals(Nd4j.createFromArray(new float[][] {{11, 22, 33}, {14, 25, 36}}),
                m.dup().addiRowVector(Nd4j.createFromArray(10f, 20f, 30f)));
        assertEquals(Nd4j.createFromArray(6f, 15f), m.sum(1));
        assertEquals(Nd4j.createFromArray(2L, 2L), m.argMax(1));
        assertEquals(DataType.FLOAT, Nd4j.matmul(m, m.transpose()).dataType());
    }

    /**
     * A real training in a child JVM whose garbage collector runs many times a second (a 1 MB young
     * generation and a thread making garbage): the conditions under which ND4J's plain executioner
     * freed an op's buffer under its native kernel (SIGSEGV in sd::DataBuffer::primary()).
     * tools/stress-native.sh runs the whole CLI this way, fenced and not, many times.
     */
    @Test
    void trainingSurvivesAGarbageCollectorThatNeverRests(@TempDir Path dir) throws Exception {
        Path crashLog = dir.resolve("hs_err.log");
        ProcessBuilder builder = new ProcessBuilder(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-Xmn1m", "-XX:ErrorFile=" + crashLog,
                "-cp", System.getProperty("java.class.path"), TrainingUnderGcPressure.class.getName(), "6000"))
                .redirectErrorStream(true);
        builder.environment().put("OMP_NUM_THREADS", "1");
        Process child = builder.start();
        String printed = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(child.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, child.exitValue(), () -> printed + crashReport(crashLog));
        Matcher result = Pattern.compile("fenced=(\\w+) steps=(\\d+) accuracy=([0-9.]+)").matcher(printed);
        assertTrue(result.find(), printed);
        assertEquals("true", result.group(1));
        assertTrue(Long.parseLong(result.group(2)) > 20, printed);
        assertTrue(Double.parseDouble(result.group(3)) > 0.8, "it trained: " + printed);
    }

    private static String crashReport(Path log) {
        try {
            return Files.exists(log) ? "\n" + Files.readString(log).lines().limit(40).reduce("", (a, b) -> a + "\n" + b) : "";
        } catch (IOException e) {
            return "";
        }
    }
}
