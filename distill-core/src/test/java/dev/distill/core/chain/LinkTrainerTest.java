package dev.distill.core.chain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.distill.core.loss.DistillationLoss;
import dev.distill.core.testing.TinyData;
import dev.distill.core.train.TeacherLogits;
import dev.distill.models.network.Network;
import dev.distill.models.network.Networks;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.junit.jupiter.api.Test;

/**
 * The loss a node trains with and the targets that go with it, one home for the chain's trainings and the
 * compression stages' fine-tuning: a teacher's cached logits packed with the labels, or the labels alone.
 */
class LinkTrainerTest {

    static final DistillationSettings KD = DistillationSettings.kd(2, 0.7, 0.3);

    @Test
    void aDistilledNodeTrainsOnItsTeachersLogitsWithItsLinksLossOrOnLabelsAloneWithCrossEntropy() {
        Network teacher = Networks.build(TinyData.mlp(8, 3), DistillationChainTest.INPUT,
                DistillationChainTest.TRAINING.updater(), 0, 3, new LossMCXENT());
        LinkTrainer links = new LinkTrainer(DistillationChainTest.INPUT, DistillationChainTest.TRAIN,
                DistillationChainTest.VALIDATION, new TeacherLogitsCache(DistillationChainTest.TRAIN.features(),
                        id -> Teacher.of(teacher), TeacherLogitsCache.Store.NONE));
        Plan.Node student = new Plan.Node("student-from-teacher", "student", Role.STUDENT, "teacher", KD);
        INDArray oneHot = DistillationChainTest.TRAIN.oneHot();

        DistillationLoss loss = assertInstanceOf(DistillationLoss.class, LinkTrainer.loss(student, true));
        assertEquals(2.0, loss.temperature());
        INDArray packed = DistillationLoss.labels(oneHot,
                TeacherLogits.compute(teacher, DistillationChainTest.TRAIN.features()));
        assertEquals(packed, links.targets(student, true));
        assertNotEquals(oneHot.columns(), packed.columns(), "the teacher's logits travel beside the labels");

        assertInstanceOf(LossMCXENT.class, LinkTrainer.loss(student, false), "a stage's hard labels");
        assertEquals(oneHot, links.targets(student, false));
        Plan.Node root = new Plan.Node("teacher", "teacher", Role.TEACHER, null, KD);
        assertInstanceOf(LossMCXENT.class, LinkTrainer.loss(root, true), "a root has no teacher");
        assertEquals(oneHot, links.targets(root, true));
    }
}
