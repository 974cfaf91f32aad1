package dev.distill.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.data.Augmentation;
import dev.distill.core.data.Augmenter;
import dev.distill.core.data.LabeledData;
import dev.distill.core.loss.DistillationLoss;
import dev.distill.core.testing.TinyData;
import dev.distill.models.network.Network;
import dev.distill.models.network.NetworkFactory;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.LayerSpec;
import dev.distill.models.spec.ModelSpec;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/** Training on augmented views: the teacher labels the view the student sees, not the stored image. */
class AugmentedTrainingTest {

    static final InputShape IMAGE = InputShape.image(4, 4, 1);
    static final int CLASSES = 3;

    /** A teacher that is a known function: logits = x W + b, with W and b set by hand. */
    static MultiLayerNetwork linearTeacher(float[][] w, float[] b) {
        TrainingSpec spec = new TrainingSpec(1, 8, Optimizer.ADAM, 1e-3, new LearningRateSchedule.Constant(), 0);
        MultiLayerNetwork net = NetworkFactory.build(new ModelSpec(List.of(new LayerSpec.Output(CLASSES))),
                InputShape.flat(IMAGE.size()), spec.updater(), 0, 5);
        net.getLayer(0).setParam("W", Nd4j.createFromArray(w));
        net.getLayer(0).setParam("b", Nd4j.createFromArray(new float[][] {b}));
        return net;
    }

    static float[][] weights() {
        float[][] w = new float[IMAGE.size()][CLASSES];
        for (int i = 0; i < w.length; i++) {
            for (int k = 0; k < CLASSES; k++) {
                w[i][k] = (i * 3 + k) % 7 - 3;
            }
        }
        return w;
    }

    static final float[] BIAS = {0.5f, -1f, 2f};

    static float[] byHand(float[] x, float[][] w, float[] b) {
        float[] logits = b.clone();
        for (int i = 0; i < x.length; i++) {
            for (int k = 0; k < CLASSES; k++) {
                logits[k] += x[i] * w[i][k];
            }
        }
        return logits;
    }

    @Test
    void theTeachersTargetsAreItsLogitsOnTheAugmentedViewNotOnTheStoredImage() {
        TrainingSpec spec = new TrainingSpec(1, 8, Optimizer.ADAM, 1e-3, new LearningRateSchedule.Constant(), 0,
                new Augmentation(1, true, 0));
        TeacherLogits.Live teacher = TeacherLogits.live(Network.of(linearTeacher(weights(), BIAS)));
        assertEquals("compiled runtime", teacher.how());
        LabeledData data = TinyData.indexed(8, IMAGE.size(), CLASSES);
        int[] rows = {5, 0, 7, 2, 1, 3, 6, 4};
        DataSet batch = new Trainer(spec, List.of()).withAugmentation(IMAGE, teacher)
                .batch(data.features(), data.oneHot(), rows, 9, 2, 16);

        INDArray clean = Nd4j.pullRows(data.features(), 1, rows);
        INDArray view = new Augmenter(spec.augment(), IMAGE).apply(clean, Nd4j.pullRows(data.oneHot(), 1, rows),
                9, 2, 16).features();
        assertArrayEquals(view.ravel().toFloatVector(), batch.getFeatures().ravel().toFloatVector(), 0f);
        INDArray labels = batch.getLabels();
        assertArrayEquals(new long[] {8, 2 * CLASSES}, labels.shape());
        double furthestFromClean = 0;
        for (int i = 0; i < rows.length; i++) {
            float[] row = labels.getRow(i).toFloatVector();
            assertEquals(1f, row[data.labels()[rows[i]]], 0f, "the hard part is the example's one-hot label");
            float[] expected = byHand(view.getRow(i).toFloatVector(), weights(), BIAS);
            float[] onClean = byHand(clean.getRow(i).toFloatVector(), weights(), BIAS);
            for (int k = 0; k < CLASSES; k++) {
                assertEquals(expected[k], row[CLASSES + k], 1e-3 * Math.max(1, Math.abs(expected[k])),
                        "example " + i + ", class " + k);
                furthestFromClean = Math.max(furthestFromClean, Math.abs(onClean[k] - row[CLASSES + k]));
            }
        }
        assertTrue(furthestFromClean > 1, "the views changed the teacher's logits: " + furthestFromClean);
    }

    @Test
    void aStudentDistilledOnAugmentedViewsLearns() {
        LabeledData data = TinyData.blobs(600, IMAGE.size(), CLASSES, 31);
        TrainingSpec spec = new TrainingSpec(4, 32, Optimizer.ADAM, 1e-2, new LearningRateSchedule.Constant(), 0,
                new Augmentation(0, false, 0.2));
        TrainingSpec teacherSpec = new TrainingSpec(4, 32, Optimizer.ADAM, 1e-2, new LearningRateSchedule.Constant(),
                0);
        MultiLayerNetwork teacher = NetworkFactory.build(TinyData.mlp(16, CLASSES), InputShape.flat(IMAGE.size()),
                teacherSpec.updater(), 0, 3);
        new Trainer(teacherSpec, List.of()).fit(teacher, data.features(), data.oneHot(), data.subset(new int[0]), 3);
        MultiLayerNetwork student = NetworkFactory.build(TinyData.mlp(8, CLASSES), IMAGE, spec.updater(), 0, 4,
                new DistillationLoss(1, 0.5, 0.5));
        TrainingResult result = new Trainer(spec, List.of())
                .withAugmentation(IMAGE, TeacherLogits.live(Network.of(teacher)))
                .fit(student, data.features(), data.oneHot(), data, 4);
        assertTrue(result.bestValidationAccuracy() > 0.9, "student " + result.bestValidationAccuracy());
    }

    @Test
    void anAugmentedSpecWithoutTheInputShapeIsRefused() {
        TrainingSpec spec = new TrainingSpec(1, 8, Optimizer.ADAM, 1e-3, new LearningRateSchedule.Constant(), 0,
                new Augmentation(1, false, 0));
        LabeledData data = TinyData.blobs(16, IMAGE.size(), CLASSES, 1);
        MultiLayerNetwork net = NetworkFactory.build(TinyData.mlp(4, CLASSES), IMAGE, spec.updater(), 0, 1);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new Trainer(spec, List.of()).fit(net, data.features(), data.oneHot(), data, 1));
        assertTrue(e.getMessage().contains("withAugmentation"), e.getMessage());
    }

    @Test
    void theLiveTeachersLogitsEqualTheCachedOnes() {
        LabeledData data = TinyData.blobs(300, IMAGE.size(), CLASSES, 8);
        MultiLayerNetwork teacher = NetworkFactory.build(TinyData.mlp(16, CLASSES), InputShape.flat(IMAGE.size()),
                new org.nd4j.linalg.learning.config.Adam(1e-3), 0, 3);
        INDArray cached = TeacherLogits.compute(teacher, data.features());
        INDArray live = TeacherLogits.live(Network.of(teacher)).logits(data.features());
        assertEquals(DataType.FLOAT, live.dataType());
        assertArrayEquals(cached.ravel().toFloatVector(), live.ravel().toFloatVector(), 1e-4f);
    }
}
