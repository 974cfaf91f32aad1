package dev.distill.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.data.LabeledData;
import dev.distill.core.testing.TinyData;
import dev.distill.models.network.NetworkFactory;
import dev.distill.models.spec.Activation;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.LayerSpec;
import dev.distill.models.spec.ModelSpec;
import java.util.List;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.ops.transforms.Transforms;

/** A teacher's cached logits are the inputs of its softmax, computed in inference mode. */
class TeacherLogitsTest {

    /** More rows than one of TeacherLogits' internal batches (512), and not a multiple of it. */
    static final LabeledData DATA = TinyData.blobs(1100, 6, 3, 21);

    private static MultiLayerNetwork trained;

    /** An MLP teacher trained a little, so that its logits are not near zero (trained once, shared). */
    static synchronized MultiLayerNetwork trainedMlp() {
        if (trained != null) {
            return trained;
        }
        TrainingSpec spec = new TrainingSpec(2, 64, Optimizer.ADAM, 1e-2, new LearningRateSchedule.Constant(), 0);
        MultiLayerNetwork net = NetworkFactory.build(TinyData.mlp(12, 3), InputShape.flat(6), spec.updater(), 0, 22);
        new Trainer(spec, List.of()).fit(net, DATA.features(), DATA.oneHot(), DATA.subset(new int[0]), 22);
        trained = net;
        return net;
    }

    @Test
    void softmaxOfTheLogitsIsTheTeachersOutput() {
        MultiLayerNetwork teacher = trainedMlp();
        INDArray logits = TeacherLogits.compute(teacher, DATA.features());
        assertArrayEquals(new long[] {1100, 3}, logits.shape());
        assertEquals(DataType.FLOAT, logits.dataType());
        INDArray probabilities = teacher.output(DATA.features(), false);
        INDArray softmax = Transforms.softmax(logits, true);
        double maxDiff = Transforms.abs(softmax.sub(probabilities)).maxNumber().doubleValue();
        assertTrue(maxDiff < 1e-5, "max |softmax(logits) - output| = " + maxDiff);
    }

    @Test
    void logitsEqualLogProbabilitiesUpToAConstantPerRow() {
        MultiLayerNetwork teacher = trainedMlp();
        INDArray logits = TeacherLogits.compute(teacher, DATA.features()).castTo(DataType.DOUBLE);
        INDArray logProbabilities = Transforms.log(teacher.output(DATA.features(), false).castTo(DataType.DOUBLE));
        INDArray difference = logits.sub(logProbabilities);
        // each row's difference is one constant (log of its partition function)
        INDArray spread = difference.max(1).sub(difference.min(1));
        assertTrue(spread.maxNumber().doubleValue() < 1e-4, "max spread " + spread.maxNumber());
        // and that constant is not the same for every row: these are raw logits, not log-probabilities
        INDArray constants = difference.mean(1);
        assertTrue(constants.maxNumber().doubleValue() - constants.minNumber().doubleValue() > 0.1);
    }

    @Test
    void logitsAreTheOutputLayersWeightedInputs() {
        MultiLayerNetwork teacher = trainedMlp();
        INDArray x = DATA.features().getRows(0, 1, 2, 3, 4, 1099);
        INDArray hidden = teacher.feedForward(x, false).get(1);
        INDArray expected = hidden.mmul(teacher.getLayer(1).getParam("W")).addiRowVector(teacher.getLayer(1)
                .getParam("b"));
        INDArray logits = TeacherLogits.compute(teacher, x);
        assertTrue(logits.equalsWithEps(expected, 1e-5), logits + " vs " + expected);
    }

    @Test
    void convolutionalTeacherWithBatchNormAndDropoutGivesDeterministicInferenceLogits() {
        ModelSpec cnn = new ModelSpec(List.of(
                new LayerSpec.Conv2d(3, 3, 1, LayerSpec.Padding.SAME, Activation.RELU),
                new LayerSpec.BatchNorm(),
                new LayerSpec.Pool(LayerSpec.PoolType.MAX, 2, 2),
                new LayerSpec.Dropout(0.5),
                new LayerSpec.Dense(8, Activation.RELU),
                new LayerSpec.Output(3)));
        InputShape input = InputShape.image(6, 6, 1);
        MultiLayerNetwork teacher = NetworkFactory.build(cnn, input, new Adam(1e-2), 0, 23);
        Nd4j.getRandom().setSeed(24);
        INDArray x = Nd4j.rand(DataType.FLOAT, 40, input.size());
        // a few training steps so the batch-norm running statistics are not the initial ones
        for (int i = 0; i < 3; i++) {
            teacher.fit(x, TinyData.blobs(40, 1, 3, 0).oneHot());
        }
        INDArray before = teacher.output(x, false);
        INDArray first = TeacherLogits.compute(teacher, x);
        INDArray second = TeacherLogits.compute(teacher, x);
        assertEquals(first, second, "inference mode: no dropout noise");
        assertTrue(Transforms.softmax(first, true).equalsWithEps(before, 1e-5));
        // the teacher itself is untouched: still a softmax classifier with the same outputs
        BaseOutputLayer out = (BaseOutputLayer) teacher.getLayerWiseConfigurations().getConf(5).getLayer();
        assertInstanceOf(ActivationSoftmax.class, out.getActivationFn());
        assertEquals(before, teacher.output(x, false));
        // the logits copy computes its conv, batch-norm and pooling layers where the teacher does: on oneDNN
        assertEquals(3, dev.distill.models.network.ConvBackend.acceleratedLayers(
                TeacherLogits.withIdentityOutput(teacher).getLayers()));
    }

    @Test
    void aConcurrentLiveTeacherMakesACopyOnlyWhenEveryOneIsInUseAndReusesItAfterwards() throws Exception {
        java.util.concurrent.atomic.AtomicInteger copies = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.CountDownLatch firstInside = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch releaseFirst = new java.util.concurrent.CountDownLatch(1);
        java.util.Set<Integer> forwardsUsed = java.util.concurrent.ConcurrentHashMap.newKeySet();
        java.util.function.Supplier<java.util.function.UnaryOperator<INDArray>> copy = () -> {
            int id = copies.incrementAndGet();
            return x -> {
                forwardsUsed.add(id);
                if (id == 1 && firstInside.getCount() > 0) {   // the first call holds its copy until released
                    firstInside.countDown();
                    try {
                        releaseFirst.await();
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                }
                return x.mul(id);
            };
        };
        TeacherLogits.Live live = TeacherLogits.Live.concurrent("test", copy.get(), copy);
        assertTrue(live.concurrent());
        INDArray x = Nd4j.ones(DataType.FLOAT, 2, 3);
        java.util.concurrent.ExecutorService other = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            var held = other.submit(() -> live.logits(x));
            firstInside.await();
            assertEquals(2.0, live.logits(x).getDouble(0, 0), "the first copy is busy: a second one computed this");
            assertEquals(2, copies.get());
            releaseFirst.countDown();
            assertEquals(1.0, held.get().getDouble(0, 0));
            for (int i = 0; i < 5; i++) {
                live.logits(x);
            }
            assertEquals(2, copies.get(), "calls one at a time reuse the copies made");
            assertEquals(java.util.Set.of(1, 2), forwardsUsed);
        } finally {
            other.shutdownNow();
        }
        assertFalse(new TeacherLogits.Live("one forward", x1 -> x1).concurrent());
    }
}
