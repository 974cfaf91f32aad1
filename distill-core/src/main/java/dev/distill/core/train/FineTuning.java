package dev.distill.core.train;

import dev.distill.core.data.LabeledData;
import dev.distill.models.spec.ModelSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * How a compression stage fine-tunes: the network builder (which fixes the loss and gives a fresh
 * updater), batch size, optimizer and learning rate, the training data with targets as that loss
 * expects them, the validation split that picks the best epoch, the seed and progress listeners.
 *
 * @param build    a new network for a spec, with the fine-tuning loss and a fresh updater
 * @param training batch size, optimizer, learning rate, schedule and weight decay (its epochs are not used)
 */
public record FineTuning(Function<ModelSpec, MultiLayerNetwork> build, TrainingSpec training, INDArray features,
        INDArray targets, LabeledData validation, long seed, List<TrainingListener> listeners) {

    public FineTuning {
        listeners = List.copyOf(listeners);
    }

    /** A new network of {@code spec} (with the fine-tuning loss and updater) holding {@code net}'s parameters. */
    public MultiLayerNetwork copy(MultiLayerNetwork net, ModelSpec spec) {
        MultiLayerNetwork copy = build.apply(spec);
        copy.setParams(net.params().dup());
        return copy;
    }

    /**
     * Trains {@code net} in place for {@code epochs}, keeping the best validation epoch.
     *
     * @param first a listener called before the progress listeners after every step (masks, codebooks)
     */
    public TrainingResult fit(MultiLayerNetwork net, int epochs, TrainingListener first) {
        List<TrainingListener> all = new ArrayList<>(listeners);
        if (first != null) {
            all.add(0, first);
        }
        TrainingSpec spec = new TrainingSpec(epochs, training.batchSize(), training.optimizer(),
                training.learningRate(), training.schedule(), training.weightDecay());
        return new Trainer(spec, all).fit(net, features, targets, validation, seed);
    }
}
