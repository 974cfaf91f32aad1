package dev.distill.models.network;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.models.spec.Activation;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.LayerSpec;
import dev.distill.models.spec.ModelSpec;
import dev.distill.models.zoo.Zoo;
import java.util.List;
import java.util.Random;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.schedule.ExponentialSchedule;
import org.nd4j.linalg.schedule.ScheduleType;

/**
 * Adam's update computed in Java is libnd4j's {@code adam_updater} op's bit for bit, at every iteration and for
 * gradients of every size; installed in a network, it trains to the same bits as DL4J's own updater.
 */
class JavaAdamUpdaterTest {

    private static final InputShape IMAGE = InputShape.image(6, 6, 1);

    @Test
    void theUpdateAndTheMomentsAreTheNativeOpsBitForBitAtEveryIteration() {
        Random random = new Random(5);
        int n = 997;
        float[] g = new float[n];
        float[] m = new float[n];
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            // tiny, huge, zero and negative gradients; moments as a long training leaves them
            double scale = Math.pow(10, -8 + random.nextInt(10));
            g[i] = i % 50 == 0 ? 0f : (float) (random.nextGaussian() * scale);
            m[i] = (float) (random.nextGaussian() * scale * 0.1);
            v[i] = (float) (scale * scale * random.nextDouble());
        }
        for (int iteration : new int[] {0, 1, 2, 9, 10, 99, 100, 1_000, 4_321, 30_000, 1_000_000}) {
            for (double lr : new double[] {1e-3, 3e-4, 0.1}) {
                INDArray gNative = Nd4j.createFromArray(g.clone());
                INDArray mNative = Nd4j.createFromArray(m.clone());
                INDArray vNative = Nd4j.createFromArray(v.clone());
                Nd4j.exec(new org.nd4j.linalg.api.ops.impl.updaters.AdamUpdater(gNative, vNative, mNative, lr, 0.9,
                        0.999, 1e-8, iteration));
                float[] gJava = g.clone();
                float[] mJava = m.clone();
                float[] vJava = v.clone();
                JavaAdamUpdater.update(gJava, mJava, vJava, (float) lr, 0.9f, 0.999f, 1e-8f, iteration);
                String at = "iteration " + iteration + ", lr " + lr;
                assertArrayEquals(gNative.toFloatVector(), gJava, 0f, "update at " + at);
                assertArrayEquals(mNative.toFloatVector(), mJava, 0f, "mean at " + at);
                assertArrayEquals(vNative.toFloatVector(), vJava, 0f, "variance at " + at);
            }
        }
    }

    private static Network build(NetworkSpecKind kind, org.nd4j.linalg.learning.config.IUpdater updater) {
        return Networks.build(kind == NetworkSpecKind.CNN
                ? new ModelSpec(List.of(new LayerSpec.Conv2d(3, 3, 1, LayerSpec.Padding.SAME, Activation.RELU),
                        new LayerSpec.Dense(10, Activation.RELU), new LayerSpec.Output(3)))
                : Zoo.spec("resnet-tiny", 0.5, 1, 3), IMAGE, updater, 1e-4, 3, new LossMCXENT());
    }

    private enum NetworkSpecKind { CNN, GRAPH }

    private static List<DataSet> batches() {
        Nd4j.getRandom().setSeed(2);
        List<DataSet> out = new java.util.ArrayList<>();
        for (int b = 0; b < 12; b++) {
            INDArray y = Nd4j.zeros(DataType.FLOAT, 16, 3);
            for (int r = 0; r < 16; r++) {
                y.putScalar(r, (r + b) % 3, 1f);
            }
            out.add(new DataSet(Nd4j.rand(DataType.FLOAT, 16, IMAGE.size()), y));
        }
        return out;
    }

    @Test
    void aNetworkWithItInstalledTrainsToDl4jsOwnBitsSequentialAndGraphWithAScheduleAndWeightDecay() {
        Adam adam = new Adam(new ExponentialSchedule(ScheduleType.ITERATION, 1e-2, 0.97));
        for (NetworkSpecKind kind : NetworkSpecKind.values()) {
            Network own = build(kind, adam);
            Network inJava = build(kind, adam);
            assertTrue(JavaAdamUpdater.install(inJava) >= 1, kind + ": installed");
            int installed = JavaAdamUpdater.install(inJava);
            assertEquals(installed, JavaAdamUpdater.install(inJava), "installing again changes nothing");
            float[] initial = own.params().toFloatVector();
            for (DataSet b : batches()) {
                own.fit(b);
                inJava.fit(b);
            }
            assertArrayEquals(own.params().toFloatVector(), inJava.params().toFloatVector(), 0f, kind + ": parameters");
            assertArrayEquals(own.updaterState().toFloatVector(), inJava.updaterState().toFloatVector(), 0f,
                    kind + ": Adam's state, as checkpoints store it");
            assertTrue(!java.util.Arrays.equals(initial, inJava.params().toFloatVector()), "it trained");
            BaseMultiLayerUpdater<?> updater = (BaseMultiLayerUpdater<?>) (kind == NetworkSpecKind.CNN
                    ? ((Network.Sequential) inJava).net().getUpdater() : ((Network.Graph) inJava).graph().getUpdater());
            for (UpdaterBlock block : updater.getUpdaterBlocks()) {
                // batch norm's running statistics are kept by a no-op updater
                if (!(block.getGradientUpdater() instanceof org.nd4j.linalg.learning.NoOpUpdater)) {
                    assertEquals(JavaAdamUpdater.class, block.getGradientUpdater().getClass());
                }
            }
        }
    }

    @Test
    void aNetworkWithAnotherOptimizerIsLeftAsItIs() {
        Network sgd = build(NetworkSpecKind.CNN, new Sgd(0.1));
        assertEquals(0, JavaAdamUpdater.install(sgd));
    }
}
