package dev.distill.core.train;

import dev.distill.core.data.LabeledData;
import dev.distill.models.spec.ModelSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Fine-tuning after a compression step (pruning, low-rank factorization): everything but the
 * network and the number of epochs.
 *
 * @param build      a new network for a spec, with the fine-tuning loss and a fresh updater
 * @param spec       batch size, optimizer and learning rate (its epochs are ignored)
 * @param targets    training targets as {@code build}'s loss expects them
 * @param validation picks the best epoch, and measures every step
 * @param listeners  progress of each fine-tuning run
 */
public record FineTuning(Function<ModelSpec, MultiLayerNetwork> build, TrainingSpec spec, INDArray features,
        INDArray targets, LabeledData validation, long seed, List<TrainingListener> listeners) {

    public FineTuning {
        listeners = List.copyOf(listeners);
    }

    /** A new network of {@code spec} (built by {@link #build}) holding {@code net}'s parameters. */
    public MultiLayerNetwork copy(MultiLayerNetwork net, ModelSpec spec) {
        MultiLayerNetwork copy = build.apply(spec);
        copy.setParams(net.params().dup());
        return copy;
    }

    /**
     * Trains {@code net} for {@code epochs} (none when below 1).
     *
     * @param first         a listener run before the progress listeners (a mask keeper), or null
     * @param keepBestEpoch end with the parameters of the epoch of best validation accuracy, else the last
     */
    public void fit(MultiLayerNetwork net, int epochs, TrainingListener first, boolean keepBestEpoch) {
        if (epochs < 1) {
            return;
        }
        List<TrainingListener> all = new ArrayList<>(listeners);
        if (first != null) {
            all.add(0, first);
        }
        TrainingSpec training = new TrainingSpec(epochs, spec.batchSize(), spec.optimizer(), spec.learningRate(),
                spec.schedule(), spec.weightDecay());
        LabeledData check = keepBestEpoch ? validation : validation.subset(new int[0]);
        new Trainer(training, all).fit(net, features, targets, check, seed);
    }
}
