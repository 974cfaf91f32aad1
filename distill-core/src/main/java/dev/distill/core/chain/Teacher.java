package dev.distill.core.chain;

import dev.distill.core.train.TeacherLogits;
import dev.distill.models.network.Network;
import java.util.function.UnaryOperator;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What a student learns from: a teacher's logits, for a whole training set at once (cached by
 * {@link TeacherLogitsCache}) or batch by batch for augmented training, where every view is new.
 */
public interface Teacher {

    /** Logits {@code [n, classes]} in float for inputs {@code [n, d]}, in inference mode. */
    INDArray logits(INDArray features);

    /** The same teacher one batch at a time, by the fastest engine that runs it. */
    TeacherLogits.Live live();

    /** Its {@code layer}'s output for inputs {@code [n, d]}, pooled over space ({@link HintTraining#features}): a hint. */
    INDArray features(int layer, INDArray inputs);

    /** A DL4J network (sequential or graph) ending in an output layer. */
    static Teacher of(Network net) {
        return new Teacher() {
            @Override
            public INDArray logits(INDArray features) {
                return TeacherLogits.compute(net, features);
            }

            @Override
            public TeacherLogits.Live live() {
                return TeacherLogits.live(net);
            }

            @Override
            public INDArray features(int layer, INDArray inputs) {
                return HintTraining.features(net, layer, inputs);
            }
        };
    }

    /** Any engine that gives logits for a batch ({@code how} names it in logs): an ONNX model, say. */
    static Teacher of(String how, UnaryOperator<INDArray> logits) {
        TeacherLogits.Live live = new TeacherLogits.Live(how, logits);
        return new Teacher() {
            @Override
            public INDArray logits(INDArray features) {
                return live.logits(features);
            }

            @Override
            public TeacherLogits.Live live() {
                return live;
            }

            @Override
            public INDArray features(int layer, INDArray inputs) {
                throw new dev.distill.core.DistillException("hint: the teacher run by " + how + " gives logits only; "
                        + "a hint needs a DL4J teacher (declared or .zip)");
            }
        };
    }
}
