package dev.distill.core.train;

import dev.distill.core.data.LabeledData;
import dev.distill.core.eval.Accuracy;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The training loop: shuffled mini-batches (the last partial batch kept), one validation pass per
 * epoch, and the parameters of the best validation epoch restored at the end. Everything else
 * (progress, metric files) is a {@link TrainingListener}.
 *
 * <p>The targets are whatever the network's loss expects: one-hot labels for cross-entropy, or
 * {@code [one-hot | teacher logits]} for {@link dev.distill.core.loss.DistillationLoss}.
 * Deterministic for a given seed: the shuffle order comes from {@code java.util.Random(seed)} and
 * ND4J's generator (dropout) is seeded with it too.
 */
public final class Trainer {

    private final TrainingSpec spec;
    private final List<TrainingListener> listeners;

    public Trainer(TrainingSpec spec, List<TrainingListener> listeners) {
        this.spec = spec;
        this.listeners = List.copyOf(listeners);
    }

    /**
     * Trains {@code net} in place.
     *
     * @param features   training inputs {@code [n, d]}
     * @param targets    training targets {@code [n, k]} as the network's loss expects them
     * @param validation held-out data for choosing the best epoch (may be empty: then the last epoch is kept)
     */
    public TrainingResult fit(MultiLayerNetwork net, INDArray features, INDArray targets, LabeledData validation,
            long seed) {
        if (features.rows() != targets.rows()) {
            throw new IllegalArgumentException(features.rows() + " inputs but " + targets.rows() + " targets");
        }
        Nd4j.getRandom().setSeed(dev.distill.models.build.Seeds.dl4j(seed));
        Random shuffle = new Random(seed);
        int n = (int) features.rows();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        List<EpochMetrics> history = new ArrayList<>();
        INDArray bestParams = null;
        double bestAccuracy = Double.NEGATIVE_INFINITY;
        int bestEpoch = 0;
        long started = System.nanoTime();
        for (int epoch = 1; epoch <= spec.epochs(); epoch++) {
            long epochStart = System.nanoTime();
            for (TrainingListener l : listeners) {
                l.epochStarted(epoch, spec.epochs(), n);
            }
            shuffleInPlace(order, shuffle);
            double lossSum = 0;
            for (int start = 0; start < n; start += spec.batchSize()) {
                int end = Math.min(n, start + spec.batchSize());
                int[] rows = java.util.Arrays.copyOfRange(order, start, end);
                DataSet batch = new DataSet(Nd4j.pullRows(features, 1, rows), Nd4j.pullRows(targets, 1, rows));
                net.fit(batch);
                double batchLoss = net.score();
                lossSum += batchLoss * rows.length;
                for (TrainingListener l : listeners) {
                    l.batchDone(end, batchLoss);
                }
            }
            // fit(DataSet) does not advance the epoch counter that per-epoch schedules read
            net.incrementEpochCount();
            double accuracy = validation.size() > 0 ? Accuracy.of(net, validation) : Double.NaN;
            double seconds = (System.nanoTime() - epochStart) / 1e9;
            EpochMetrics metrics = new EpochMetrics(epoch, lossSum / n, accuracy, seconds, n / seconds);
            history.add(metrics);
            boolean best = validation.size() == 0 || accuracy > bestAccuracy;
            if (best) {
                bestAccuracy = accuracy;
                bestEpoch = epoch;
                bestParams = net.params().dup();
            }
            for (TrainingListener l : listeners) {
                l.epochDone(metrics, best);
            }
        }
        net.setParams(bestParams);
        return new TrainingResult(history, bestEpoch, bestAccuracy, (System.nanoTime() - started) / 1e9);
    }

    /** Fisher-Yates, continuing from the previous epoch's order so each epoch depends only on the seed. */
    private static void shuffleInPlace(int[] order, Random random) {
        for (int i = order.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int tmp = order[i];
            order[i] = order[j];
            order[j] = tmp;
        }
    }
}
