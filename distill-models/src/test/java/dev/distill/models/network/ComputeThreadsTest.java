package dev.distill.models.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.distill.models.spec.Activation;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.LayerSpec.Conv2d;
import dev.distill.models.spec.LayerSpec.Dense;
import dev.distill.models.spec.LayerSpec.Output;
import dev.distill.models.spec.LayerSpec.Padding;
import dev.distill.models.spec.LayerSpec.Pool;
import dev.distill.models.spec.LayerSpec.PoolType;
import dev.distill.models.spec.ModelSpec;
import dev.distill.models.spec.NetworkSpec;
import dev.distill.models.zoo.Zoo;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/** The thread choice of a training: the cost it is based on, the rule, and ND4J's settings put back. */
class ComputeThreadsTest {

    private static final InputShape FASHION = InputShape.image(28, 28, 1);

    private static long counted(NetworkSpec spec) {
        Network net = Networks.build(spec, FASHION, new Adam(1e-3), 0, 1, new LossMCXENT());
        return ComputeThreads.multiplyAdds(net, Nd4j.rand(DataType.FLOAT, 1, FASHION.size()));
    }

    @Test
    void theBuiltNetworksMultiplyAddsAreWhatItsSpecCountsForEveryZooModelAndTheProtocolTeacher() {
        ModelSpec teacher = new ModelSpec(List.of(
                new Conv2d(32, 3, 1, Padding.SAME, Activation.RELU),
                new Pool(PoolType.MAX, 2, 2),
                new Conv2d(64, 3, 1, Padding.SAME, Activation.RELU),
                new Pool(PoolType.MAX, 2, 2),
                new Dense(256, Activation.RELU),
                new Output(10)));
        assertEquals(teacher.cost(FASHION, 10).multiplyAdds(), counted(teacher));
        assertEquals(4_643_840L, counted(teacher));
        for (String name : Zoo.NAMES) {   // dense, conv, depthwise, separable, batch norm, residual, shuffle
            NetworkSpec spec = Zoo.spec(name, 1, 1, 10);
            assertEquals(spec.cost(FASHION, 10).multiplyAdds(), counted(spec), name);
        }
    }

    @Test
    void aSmallMlpTrainsOnOneThreadAndTheProtocolTeacherOnEveryAllowedOne() {
        ModelSpec student = new ModelSpec(List.of(new Dense(32, Activation.RELU), new Output(10)));
        assertEquals(1, ComputeThreads.forBatchCost(counted(student) * 128, 2));
        assertEquals(2, ComputeThreads.forBatchCost(4_643_840L * 128, 2));
        assertEquals(1, ComputeThreads.forBatchCost(4_643_840L * 128, 1), "OMP_NUM_THREADS=1 stays a cap");
    }

    /** Run in a JVM started with two threads: prints ND4J's and the BLAS's threads before, inside and after. */
    public static void main(String[] args) {
        String before = counts();
        String inside;
        try (ComputeThreads.Scope restore = ComputeThreads.use(1)) {
            inside = counts();
        }
        System.out.println("threads " + before + " " + inside + " " + counts());
    }

    /** libnd4j's loops / OpenMP / the BLAS. */
    private static String counts() {
        return Nd4j.getEnvironment().maxMasterThreads() + "/"
                + org.nd4j.nativeblas.NativeOpsHolder.getInstance().getDeviceNativeOps().ompGetMaxThreads() + "/"
                + Nd4j.factory().blas().getMaxThreads();
    }

    @Test
    void useSetsNd4jsThreadsAndCloseRestoresThem() throws Exception {
        // ND4J and the BLAS cannot go above the threads they started with, so this needs a JVM started with two
        ProcessBuilder pb = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-cp", System.getProperty("java.class.path"), ComputeThreadsTest.class.getName());
        pb.environment().put("OMP_NUM_THREADS", "2");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), output);
        String line = output.lines().filter(l -> l.startsWith("threads ")).findFirst().orElse(output);
        assertEquals("threads 2/2/2 1/1/1 2/2/2", line);
    }

    @Test
    void aForcedThreadCountWinsAndAMalformedOneIsRefusedInOneLine() {
        Network net = Networks.build(new ModelSpec(List.of(new Dense(8, Activation.RELU), new Output(10))),
                FASHION, new Adam(1e-3), 0, 1, new LossMCXENT());
        String old = System.getProperty("distill.threads");
        try {
            System.setProperty("distill.threads", "3");
            assertEquals(3, ComputeThreads.planTraining(net, Nd4j.rand(DataType.FLOAT, 1, 784), 128).threads());
            System.setProperty("distill.threads", "many");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ComputeThreads.planTraining(net, Nd4j.rand(DataType.FLOAT, 1, 784), 128).threads());
            assertEquals("-Ddistill.threads=many: expected a positive number of threads", e.getMessage());
        } finally {
            if (old == null) {
                System.clearProperty("distill.threads");
            } else {
                System.setProperty("distill.threads", old);
            }
        }
    }
}
