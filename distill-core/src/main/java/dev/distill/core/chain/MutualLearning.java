package dev.distill.core.chain;

import dev.distill.core.data.LabeledData;
import dev.distill.core.eval.Accuracy;
import dev.distill.core.loss.DistillationLoss;
import dev.distill.core.train.CheckpointPolicy;
import dev.distill.core.train.CheckpointSink;
import dev.distill.core.train.EpochMetrics;
import dev.distill.core.train.TrainingListener;
import dev.distill.core.train.TrainingResult;
import dev.distill.core.train.TrainingSpec;
import dev.distill.core.train.TrainingState;
import dev.distill.models.network.Network;
import dev.distill.models.network.Networks;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Deep mutual learning (Zhang, Xiang, Hospedales, Lu 2018, "Deep Mutual Learning"): two or more students
 * trained together from scratch, no pretrained teacher. On every batch each student in turn takes one step
 * on its link's loss (kd or dkd) with, as the teacher, the average of the other students' current softened
 * probabilities ({@link EnsembleTargets}); the next student already sees the updated one, the paper's
 * alternating order. With two students at T=1 this is the paper's {@code CE + KL(p_other ‖ p_self)}; with
 * more, the gradient of KL to the peers' average equals the paper's average of the KL terms' gradients.
 *
 * <p>Each student keeps its best validation epoch, as the {@code Trainer} does. Checkpoints are taken at epoch
 * ends only (every student's, with the same epoch, so that the group continues from a point all of them
 * reached; the trainer's time-based checkpoints inside an epoch are not taken). No augmentation: the peers
 * would have to see the same views.
 */
public final class MutualLearning {

    /** Keeps log() finite where a student's float softmax rounds a class's probability to 0. */
    private static final double SMALLEST_PROBABILITY = 1e-30;

    private MutualLearning() {
    }

    /** The seed of the {@code position}-th student of a group: peers of one architecture must not start equal. */
    public static long seedOf(long seed, int position) {
        return seed + 1_000_003L * position;
    }

    /**
     * Why a student trained by {@code spec} cannot step beside the group's first one (trained by {@code first}),
     * or null: peers share every batch, so they share epochs and batch size, and none augments.
     */
    public static String clash(TrainingSpec first, TrainingSpec spec) {
        if (spec.augment().active()) {
            return "augments its examples (" + spec.augment() + "); mutual students see the same batches: drop augment";
        }
        if (spec.epochs() != first.epochs() || spec.batchSize() != first.batchSize()) {
            return "trains " + spec.epochs() + " epochs in batches of " + spec.batchSize() + ", the first student "
                    + first.epochs() + " in batches of " + first.batchSize()
                    + "; mutual students step together: give them the same epochs and batch_size";
        }
        return null;
    }

    /**
     * Trains {@code nets} (built with their links' distillation loss) together, in place, and restores each
     * one's best validation epoch.
     *
     * @param temperature the links' temperature: the peers' probabilities are averaged at it
     * @param listeners   one list per student
     */
    public static List<TrainingResult> fit(List<Network> nets, TrainingSpec spec, double temperature,
            List<List<TrainingListener>> listeners, LabeledData train, LabeledData validation, long seed) {
        return fit(nets, spec, temperature, listeners, train, validation, seed, Checkpoints.NONE);
    }

    /**
     * A group's checkpoints: where each student's go (one sink per student, in the group's order), when, and
     * where an interrupted group stood ({@code resumed}: one state per student, all at the end of one epoch,
     * the networks restored from the same checkpoints; null to start from scratch).
     */
    public record Checkpoints(CheckpointPolicy policy, List<? extends CheckpointSink> sinks, List<TrainingState> resumed) {

        /** No checkpoints, from scratch. */
        public static final Checkpoints NONE = new Checkpoints(null, List.of(), null);

        public Checkpoints {
            sinks = List.copyOf(sinks);
            resumed = resumed == null ? null : List.copyOf(resumed);
            if (!sinks.isEmpty() && policy == null) {
                throw new IllegalArgumentException("checkpoint sinks need a policy");
            }
        }
    }

    /**
     * As {@link #fit(List, TrainingSpec, double, List, LabeledData, LabeledData, long)}, saving checkpoints to
     * {@code checkpoints}' sinks and continuing from its resumed states: bit for bit the uninterrupted run.
     */
    public static List<TrainingResult> fit(List<Network> nets, TrainingSpec spec, double temperature,
            List<List<TrainingListener>> listeners, LabeledData train, LabeledData validation, long seed,
            Checkpoints checkpoints) {
        if (nets.size() < 2) {
            throw new IllegalArgumentException("mutual learning needs at least two students, found " + nets.size());
        }
        String clash = clash(spec, spec);
        if (clash != null) {
            throw new IllegalArgumentException("a mutual student " + clash);
        }
        int k = nets.size();
        int n = train.size();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        if (!checkpoints.sinks().isEmpty() && checkpoints.sinks().size() != k) {
            throw new IllegalArgumentException(k + " students but " + checkpoints.sinks().size() + " checkpoint sinks");
        }
        Random shuffle = new Random(seed);
        INDArray features = train.features();
        INDArray oneHot = train.oneHot();
        List<List<EpochMetrics>> history = new ArrayList<>();
        INDArray[] bestParams = new INDArray[k];
        double[] bestAccuracy = new double[k];
        int[] bestEpoch = new int[k];
        for (int s = 0; s < k; s++) {
            history.add(new ArrayList<>());
            bestAccuracy[s] = Double.NEGATIVE_INFINITY;
        }
        int done = 0;
        double secondsBefore = 0;
        List<TrainingState> resumed = checkpoints.resumed();
        if (resumed == null) {
            Nd4j.getRandom().setSeed(dev.distill.models.network.Seeds.dl4j(seed));
        } else {
            done = resumedEpochs(resumed, k, n);
            for (int s = 0; s < k; s++) {
                TrainingState r = resumed.get(s);
                history.get(s).addAll(r.history());
                bestParams[s] = r.bestParams();
                bestAccuracy[s] = r.bestAccuracy();
                bestEpoch[s] = r.bestEpoch();
            }
            secondsBefore = resumed.get(0).seconds();
            // one generator for the group: every student's checkpoint holds the same state
            Nd4j.getRandom().setStates(resumed.get(0).rngRoot(), resumed.get(0).rngNode());
            // the shuffle's generator is not stored: replaying the epochs' shuffles puts it where it was
            for (int e = 0; e < done; e++) {
                dev.distill.core.train.Trainer.shuffleInPlace(order, shuffle);
            }
        }
        long started = System.nanoTime();
        // the project's faster training steps for the group's training only (DL4J's bits for its losses, dense
        // layers and Adam; see Networks.speedUpTraining): DL4J's own layer objects are back when it ends
        List<Networks.SpedUpLayers> spedUp = nets.stream().map(Networks::speedUpTraining).toList();
        try {
            for (int epoch = done + 1; epoch <= spec.epochs(); epoch++) {
                long epochStart = System.nanoTime();
                for (int s = 0; s < k; s++) {
                    for (TrainingListener l : listeners.get(s)) {
                        l.epochStarted(epoch, spec.epochs(), n);
                    }
                }
                dev.distill.core.train.Trainer.shuffleInPlace(order, shuffle);
                double[] lossSum = new double[k];
                for (int start = 0; start < n; start += spec.batchSize()) {
                    int end = Math.min(n, start + spec.batchSize());
                    int[] rows = java.util.Arrays.copyOfRange(order, start, end);
                    INDArray x = Nd4j.pullRows(features, 1, rows);
                    INDArray y = Nd4j.pullRows(oneHot, 1, rows);
                    for (int s = 0; s < k; s++) {
                        List<INDArray> peers = new ArrayList<>();
                        for (int p = 0; p < k; p++) {
                            if (p != s) {
                                peers.add(logProbabilities(nets.get(p), x));
                            }
                        }
                        double[] equal = new double[peers.size()];
                        java.util.Arrays.fill(equal, 1.0 / peers.size());
                        INDArray targets = EnsembleTargets.logits(peers, equal, temperature);
                        Network net = nets.get(s);
                        net.fit(new DataSet(x, DistillationLoss.labels(y, targets)));
                        double loss = net.score();
                        lossSum[s] += loss * rows.length;
                        for (TrainingListener l : listeners.get(s)) {
                            l.batchDone(end, loss);
                        }
                    }
                }
                double seconds = (System.nanoTime() - epochStart) / 1e9;
                boolean[] best = new boolean[k];
                for (int s = 0; s < k; s++) {
                    Network net = nets.get(s);
                    net.incrementEpochCount();
                    double accuracy = validation.size() > 0 ? Accuracy.of(net, validation) : Double.NaN;
                    history.get(s).add(new EpochMetrics(epoch, lossSum[s] / n, accuracy, seconds, n / seconds));
                    best[s] = validation.size() == 0 || accuracy > bestAccuracy[s];
                    if (best[s]) {
                        bestAccuracy[s] = accuracy;
                        bestEpoch[s] = epoch;
                        bestParams[s] = net.params().dup();
                    }
                }
                // every student's checkpoint before any listener hears of the epoch: one interrupted after the
                // epoch finds the whole group there
                if (!checkpoints.sinks().isEmpty() && checkpoints.policy().dueAtEpochEnd(epoch, spec.epochs())) {
                    double soFar = secondsBefore + (System.nanoTime() - started) / 1e9;
                    for (int s = 0; s < k; s++) {
                        checkpoints.sinks().get(s).save(nets.get(s), new TrainingState(n, epoch, 0, 0, 0,
                                history.get(s), bestEpoch[s], bestAccuracy[s], bestParams[s], soFar,
                                Nd4j.getRandom().rootState(), Nd4j.getRandom().nodeState()));
                    }
                }
                for (int s = 0; s < k; s++) {
                    for (TrainingListener l : listeners.get(s)) {
                        l.epochDone(history.get(s).get(epoch - 1), best[s]);
                    }
                }
            }
        } finally {
            spedUp.forEach(Networks.SpedUpLayers::close);
        }
        // the group trains as one: each student's time is the group's
        double seconds = secondsBefore + (System.nanoTime() - started) / 1e9;
        List<TrainingResult> results = new ArrayList<>();
        for (int s = 0; s < k; s++) {
            nets.get(s).setParams(bestParams[s]);
            results.add(new TrainingResult(history.get(s), bestEpoch[s], bestAccuracy[s], seconds));
        }
        return results;
    }

    /** The epochs the resumed group finished, after checking that its students' states agree. */
    private static int resumedEpochs(List<TrainingState> resumed, int students, int examples) {
        if (resumed.size() != students) {
            throw new IllegalArgumentException(students + " students but " + resumed.size() + " resumed states");
        }
        int done = resumed.get(0).completedEpochs();
        for (TrainingState r : resumed) {
            r.requireExamples(examples);
            if (!r.atEpochBoundary() || r.completedEpochs() != done) {
                throw new IllegalArgumentException("a mutual group continues from one epoch end of all its students, "
                        + "found epochs " + resumed.stream().map(TrainingState::completedEpochs).toList());
            }
        }
        return done;
    }

    /**
     * A student's current log-probabilities: logits up to a per-row constant, which no softmax at any
     * temperature sees, so they serve as the peer's logits.
     */
    private static INDArray logProbabilities(Network net, INDArray x) {
        INDArray p = net.output(x).castTo(DataType.DOUBLE);
        return Transforms.log(Transforms.max(p, SMALLEST_PROBABILITY, false), false);
    }
}
