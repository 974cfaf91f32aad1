package dev.distill.core.chain;

import dev.distill.core.DistillException;
import dev.distill.core.data.LabeledData;
import dev.distill.core.loss.HintLoss;
import dev.distill.core.train.Trainer;
import dev.distill.core.train.TrainingSpec;
import dev.distill.models.network.Network;
import dev.distill.models.network.NetworkFactory;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.LayerSpec;
import dev.distill.models.spec.ModelSpec;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * FitNets' first stage ({@link Hint}; the joint stage is {@link JointHint}): the student's layers up to its guided layer, a global average pool if
 * that layer is a conv layer, and a linear regressor to the teacher's hint width, trained on
 * {@link HintLoss} against the teacher's pooled hint features; the guided layers' trained parameters are then
 * copied into the student, which the link trains on as usual. The regressor is dropped after the stage, as in
 * the paper: the shipped student is the declared architecture.
 */
public final class HintTraining {

    private static final int BATCH = 512;

    private HintTraining() {
    }

    /**
     * A network's output at {@code layer} for every input, averaged over space when it is a feature map:
     * {@code [n, width]} in float.
     */
    public static INDArray features(Network net, int layer, INDArray inputs) {
        MultiLayerNetwork mln = sequential(net, "teacher");
        if (layer >= mln.getnLayers() - 1) {
            throw new DistillException("hint: teacher_layer " + layer + " does not exist: the teacher has "
                    + (mln.getnLayers() - 1) + " layers before its output (0.." + (mln.getnLayers() - 2) + ")");
        }
        List<INDArray> parts = new ArrayList<>();
        for (long start = 0; start < inputs.rows(); start += BATCH) {
            INDArray batch = inputs.get(NDArrayIndex.interval(start, Math.min(inputs.rows(), start + BATCH)),
                    NDArrayIndex.all());
            parts.add(pooled(mln.feedForwardToLayer(layer, batch, false).get(layer + 1)));
        }
        return Nd4j.vstack(parts.toArray(INDArray[]::new)).castTo(DataType.FLOAT);
    }

    /**
     * Trains the student's layers up to {@code hint.studentLayer()} to predict {@code teacherFeatures} through a
     * regressor, in place.
     *
     * @return the first stage's training (its loss per epoch is the hint loss)
     * @param studentSpec     what {@code student} was built from (the first stage is built from its first layers)
     * @param teacherFeatures {@link #features} of the teacher on {@code inputs}
     */
    public static dev.distill.core.train.TrainingResult pretrain(Network student, ModelSpec studentSpec, InputShape input, Hint hint, INDArray inputs,
            INDArray teacherFeatures, TrainingSpec training, long seed) {
        MultiLayerNetwork mln = sequential(student, "student");
        int guided = hint.studentLayer();
        MultiLayerNetwork stage = regression(mln, studentSpec, input, hint, inputs, teacherFeatures.columns(),
                training, seed);
        TrainingSpec first = new TrainingSpec(hint.epochsFor(training.epochs()), training.batchSize(),
                training.optimizer(), training.learningRate(), training.schedule(), training.weightDecay());
        // no validation: the regressor's outputs are not class scores, so the last epoch is kept
        LabeledData none = new LabeledData(Nd4j.create(DataType.FLOAT, 0, inputs.columns()), new int[0], 2);
        dev.distill.core.train.TrainingResult result = new Trainer(first, List.of()).fit(stage, inputs, teacherFeatures,
                none, seed);
        copyLayers(stage, mln, guided);
        return result;
    }

    /**
     * The student's layers up to the guided one (with its current parameters), a global average pool if that
     * layer gives feature maps, and a linear regressor to {@code width} outputs on {@link HintLoss}.
     */
    static MultiLayerNetwork regression(MultiLayerNetwork student, ModelSpec studentSpec, InputShape input, Hint hint,
            INDArray inputs, long width, TrainingSpec training, long seed) {
        int guided = hint.studentLayer();
        if (guided >= student.getnLayers() - 1) {
            throw new DistillException("hint: student_layer " + guided + " does not exist: the student has "
                    + (student.getnLayers() - 1) + " layers before its output");
        }
        boolean featureMap = student.feedForwardToLayer(guided, inputs.get(NDArrayIndex.interval(0, 1),
                NDArrayIndex.all()), false).get(guided + 1).rank() > 2;
        List<LayerSpec> layers = new ArrayList<>(studentSpec.layers().subList(0, guided + 1));
        if (featureMap) {
            layers.add(new LayerSpec.GlobalPool(LayerSpec.PoolType.AVG));
        }
        layers.add(new LayerSpec.Output((int) width));
        MultiLayerNetwork stage = NetworkFactory.build(new ModelSpec(layers), input, training.updater(),
                training.weightDecay(), seed, new HintLoss());
        copyLayers(student, stage, guided);
        return stage;
    }

    static void copyLayers(MultiLayerNetwork from, MultiLayerNetwork to, int last) {
        for (int i = 0; i <= last; i++) {
            if (from.getLayer(i).numParams() > 0) {
                to.getLayer(i).setParams(from.getLayer(i).params().dup());
            }
        }
    }

    private static INDArray pooled(INDArray activation) {
        return switch (activation.rank()) {
            case 2 -> activation;
            case 4 -> activation.mean(2, 3);   // [n, c, h, w]: global average over space
            default -> throw new DistillException("hint: a layer output of rank " + activation.rank()
                    + " cannot be bridged by a regressor (dense [n, d] or conv [n, c, h, w] only)");
        };
    }

    private static MultiLayerNetwork sequential(Network net, String who) {
        if (!(net instanceof Network.Sequential s)) {
            throw new DistillException("hint: the " + who + " is a graph; a hint names layers of sequential networks");
        }
        return s.net();
    }
}
