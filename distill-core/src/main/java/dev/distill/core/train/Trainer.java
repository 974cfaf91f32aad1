package dev.distill.core.train;

import dev.distill.core.DistillException;
import dev.distill.core.data.Augmenter;
import dev.distill.core.data.LabeledData;
import dev.distill.core.eval.Accuracy;
import dev.distill.core.loss.DistillationLoss;
import dev.distill.models.network.ComputeThreads;
import dev.distill.models.network.Network;
import dev.distill.models.network.Networks;
import dev.distill.models.network.TrainingSteps;
import dev.distill.models.spec.InputShape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The training loop: shuffled mini-batches (the last partial batch kept), one validation pass per
 * epoch, and the parameters of the best validation epoch restored at the end. Everything else
 * (progress, metric files) is a {@link TrainingListener}; checkpoints go to a {@link CheckpointSink}
 * when one is given, and a run continues from one bit for bit.
 *
 * <p>The targets are whatever the network's loss expects: one-hot labels for cross-entropy, or
 * {@code [one-hot | teacher logits]} for {@link dev.distill.core.loss.DistillationLoss}.
 * Deterministic for a given seed: the shuffle order comes from {@code java.util.Random(seed)} and
 * ND4J's generator (dropout) is seeded with it too; augmented views are a function of the seed, the
 * epoch and the batch's position ({@link Augmenter}).
 *
 * <p>Augmented batches and a live teacher's targets are prepared ahead on threads of the {@code fit} call's
 * own, overlapping the network's step (one batch ahead; with a teacher that several threads may call at once, as
 * many as the threads a training may use); {@code -Ddistill.prefetch=false} prepares them on the training thread
 * instead, with the same results bit for bit (a batch is a function of its position, and neither augmentation nor
 * the teacher's inference draws from ND4J's generator).
 */
public final class Trainer {

    static {
        // ND4J ops kept alive through their native calls (a training could otherwise die in native code)
        dev.distill.models.nd4j.NativeSafety.install();
    }


    /** The name of the thread preparing the next batch, while a {@code fit} call runs. */
    static final String PREFETCH_THREAD = "distill-prefetch";
    /**
     * The system property saying where batches are made: {@code false} on the training thread, a number N on N
     * threads of their own (one when the teacher must be called by one thread at a time), unset or {@code true} as
     * {@link #prefetchThreads} says.
     */
    public static final String PREFETCH_PROPERTY = "distill.prefetch";

    private final TrainingSpec spec;
    private final List<TrainingListener> listeners;
    private final CheckpointPolicy policy;
    private final CheckpointSink sink;
    private final Augmenter augmenter;
    private final TeacherLogits.Live teacher;
    private final Map<String, Network> companions;
    /** How to compute, or null to choose per network ({@link ComputeThreads#planTraining}). */
    private final ComputeThreads.Plan plan;

    public Trainer(TrainingSpec spec, List<TrainingListener> listeners) {
        this(spec, listeners, CheckpointPolicy.DEFAULT, null, null, null, Map.of(), null);
    }

    private Trainer(TrainingSpec spec, List<TrainingListener> listeners, CheckpointPolicy policy,
            CheckpointSink sink, Augmenter augmenter, TeacherLogits.Live teacher, Map<String, Network> companions,
            ComputeThreads.Plan plan) {
        this.spec = spec;
        this.listeners = List.copyOf(listeners);
        this.policy = policy;
        this.sink = sink;
        this.augmenter = augmenter;
        this.teacher = teacher;
        this.companions = Map.copyOf(companions);
        this.plan = plan;
    }

    /**
     * {@code body}'s result with {@link #PREFETCH_PROPERTY} at {@code on} while it runs, the property as it
     * was afterwards: the serial and the prefetched paths compared in one process (bench, tests). A process
     * setting: trainings running meanwhile on other threads see it too.
     */
    public static <T> T withPrefetch(boolean on, java.util.function.Supplier<T> body) {
        return withPrefetch(Boolean.toString(on), body);
    }

    /** As {@link #withPrefetch(boolean, java.util.function.Supplier)}, with batches made on {@code threads} threads. */
    public static <T> T withPrefetchThreads(int threads, java.util.function.Supplier<T> body) {
        return withPrefetch(Integer.toString(threads), body);
    }

    /** As {@link #withPrefetch(boolean, java.util.function.Supplier)}, with the property at {@code value}. */
    static <T> T withPrefetch(String value, java.util.function.Supplier<T> body) {
        String before = System.getProperty(PREFETCH_PROPERTY);
        System.setProperty(PREFETCH_PROPERTY, value);
        try {
            return body.get();
        } finally {
            if (before == null) {
                System.clearProperty(PREFETCH_PROPERTY);
            } else {
                System.setProperty(PREFETCH_PROPERTY, before);
            }
        }
    }

    /** How this trainer trains: epochs, batch size, optimizer, augmentation. */
    public TrainingSpec spec() {
        return spec;
    }

    /** The same trainer, handing a checkpoint to {@code sink} whenever {@code policy} says. */
    public Trainer withCheckpoints(CheckpointPolicy policy, CheckpointSink sink) {
        return new Trainer(spec, listeners, policy, sink, augmenter, teacher, companions, plan);
    }

    /**
     * The same trainer, with {@code companion}, a network that something listening to the trained one steps
     * beside it (a joint hint's regressor), in every checkpoint ({@link TrainingState#companions}) under
     * {@code name} and put back from the resumed state: without it, a resumed run would not end where a straight
     * one does.
     */
    public Trainer withCompanion(String name, Network companion) {
        Map<String, Network> more = new java.util.HashMap<>(companions);
        if (more.put(name, companion) != null) {
            throw new IllegalArgumentException("two companions named " + name);
        }
        return new Trainer(spec, listeners, policy, sink, augmenter, teacher, more, plan);
    }

    /**
     * The same trainer, augmenting each batch as the spec's {@link TrainingSpec#augment()} says, for
     * examples of {@code shape}. With a {@code teacher} (null: none), the targets passed to {@code fit}
     * are the labels alone, and each batch's targets become {@code [labels | teacher logits]} with the
     * logits computed on the very view the student is trained on, for
     * {@link dev.distill.core.loss.DistillationLoss}.
     */
    public Trainer withAugmentation(InputShape shape, TeacherLogits.Live teacher) {
        Augmenter a = spec.augment().active() ? new Augmenter(spec.augment(), shape) : null;
        return new Trainer(spec, listeners, policy, sink, a, teacher, companions, plan);
    }

    /**
     * The same trainer, computing as {@code plan} says for every network instead of the plan chosen for each
     * ({@link ComputeThreads#planTraining}): a split plan needs a network
     * {@link dev.distill.models.network.SplitBatchSteps#supports}.
     */
    public Trainer withComputePlan(ComputeThreads.Plan plan) {
        return new Trainer(spec, listeners, policy, sink, augmenter, teacher, companions,
                java.util.Objects.requireNonNull(plan, "plan"));
    }

    /**
     * Trains {@code net} in place from scratch.
     *
     * @param features   training inputs {@code [n, d]}
     * @param targets    training targets {@code [n, k]} as the network's loss expects them
     * @param validation held-out data for choosing the best epoch (may be empty: then the last epoch is kept)
     */
    public TrainingResult fit(MultiLayerNetwork net, INDArray features, INDArray targets, LabeledData validation,
            long seed) {
        return fit(Network.of(net), features, targets, validation, seed, null);
    }

    /** As {@link #fit(Network, INDArray, INDArray, LabeledData, long, TrainingState)}, for a sequential network. */
    public TrainingResult fit(MultiLayerNetwork net, INDArray features, INDArray targets, LabeledData validation,
            long seed, TrainingState resumed) {
        return fit(Network.of(net), features, targets, validation, seed, resumed);
    }

    /**
     * Trains {@code net} in place, continuing from {@code resumed} (null: from scratch), where
     * {@code net} is the network restored from the same checkpoint. Its steps are computed with
     * {@link Networks#speedUpTraining} (put into {@code net} for the training's duration; DL4J's bits, or its
     * results up to rounding for convolutions over few input channels and softmax cross-entropy) and as
     * {@link ComputeThreads#planTraining} plans for it, or as {@link #withComputePlan} says.
     */
    public TrainingResult fit(Network net, INDArray features, INDArray targets, LabeledData validation,
            long seed, TrainingState resumed) {
        if (features.rows() != targets.rows()) {
            throw new IllegalArgumentException(features.rows() + " inputs but " + targets.rows() + " targets");
        }
        if (spec.augment().active() && augmenter == null) {
            throw new IllegalStateException("augmentation (" + spec.augment() + ") needs the input shape: "
                    + "build the trainer withAugmentation");
        }
        int n = (int) features.rows();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Random shuffle = new Random(seed);
        Run run;
        if (resumed == null) {
            Nd4j.getRandom().setSeed(dev.distill.models.network.Seeds.dl4j(seed));
            run = new Run(n);
        } else {
            resumed.requireExamples(n);
            restoreCompanions(resumed);
            Nd4j.getRandom().setStates(resumed.rngRoot(), resumed.rngNode());
            // the shuffle's generator is not stored: replaying the epochs' shuffles puts it where it was
            int shuffled = resumed.completedEpochs() + (resumed.atEpochBoundary() ? 0 : 1);
            for (int e = 0; e < shuffled; e++) {
                shuffleInPlace(order, shuffle);
            }
            run = new Run(resumed);
        }
        ComputeThreads.Plan compute = plan != null ? plan : ComputeThreads.planTraining(net, features, spec.batchSize());
        // gathering alone is cheap: only augmentation or a teacher's forward pass is worth another thread
        int prefetchThreads = augmenter != null || teacher != null ? prefetchThreads(teacher) : 0;
        // less work: DL4J's bits or its results up to rounding; DL4J's layers are back when the training ends
        try (Networks.SpedUpLayers spedUp = Networks.speedUpTraining(net);
                ComputeThreads.Scope restore = ComputeThreads.use(compute.threadsPerPart());
                TrainingSteps steps = TrainingSteps.of(net, compute);
                Prefetch ahead = prefetchThreads > 0 ? new Prefetch(features, targets, seed, prefetchThreads) : null) {
            train(net, features, targets, validation, seed, order, shuffle, run, ahead, steps);
        }
        net.setParams(run.bestParams);
        return new TrainingResult(run.history, run.bestEpoch, run.bestAccuracy, run.seconds());
    }

    /**
     * The threads that make batches ahead of an augmented training distilled from {@code teacher} (null: none) as
     * {@link #PREFETCH_PROPERTY} says (0: the training thread makes them): by default one, and with a teacher several
     * threads may call at once ({@link TeacherLogits.Live#concurrent}) as many as a training may use
     * ({@link ComputeThreads#allowed}); never more than one for a teacher that is not.
     *
     * @throws IllegalArgumentException in one line when the property is neither {@code true}, {@code false} nor a
     *                                  positive number
     */
    public static int prefetchThreads(TeacherLogits.Live teacher) {
        String value = System.getProperty(PREFETCH_PROPERTY, "true").trim();
        boolean concurrentTeacher = teacher != null && teacher.concurrent();
        if (value.equalsIgnoreCase("false")) {
            return 0;
        }
        if (value.equalsIgnoreCase("true")) {
            return concurrentTeacher ? Math.max(1, ComputeThreads.allowed()) : 1;
        }
        int threads;
        try {
            threads = Integer.parseInt(value);
        } catch (NumberFormatException e) {
            threads = 0;
        }
        if (threads < 1) {
            throw new IllegalArgumentException("-D" + PREFETCH_PROPERTY + "=" + value
                    + ": expected true, false or a positive number of threads");
        }
        return teacher == null || concurrentTeacher ? threads : 1;
    }

    /**
     * Puts the resumed state's companions into this trainer's. A companion the state lacks (a checkpoint written
     * before it was kept) or one this training has no place for is one line: continuing without it would
     * silently differ from the run that was interrupted.
     */
    private void restoreCompanions(TrainingState resumed) {
        for (Map.Entry<String, Network> c : companions.entrySet()) {
            Network saved = resumed.companions().get(c.getKey());
            if (saved == null) {
                throw new DistillException("the checkpoint to resume holds no " + c.getKey() + " (checkpoints "
                        + "written before it was kept have none), so this training cannot continue where it "
                        + "stopped; remove its checkpoints to train it from the start");
            }
            try {
                c.getValue().copyTrainingStateFrom(saved);
            } catch (IllegalArgumentException e) {
                throw new DistillException("the checkpoint's " + c.getKey() + " " + e.getMessage(), e);
            }
        }
        for (String name : resumed.companions().keySet()) {
            if (!companions.containsKey(name)) {
                throw new DistillException("the checkpoint to resume holds a " + name + " this training does not "
                        + "have; was its configuration changed? remove its checkpoints to train it from the start");
            }
        }
    }

    /**
     * The epochs left to {@code run}, with batches from {@code ahead} when given, else made here, each step taken by
     * {@code steps}.
     */
    private void train(Network net, INDArray features, INDArray targets, LabeledData validation, long seed,
            int[] order, Random shuffle, Run run, Prefetch ahead, TrainingSteps steps) {
        int n = order.length;
        BatchBuffers buffers = ahead == null ? new BatchBuffers(features, targets, spec.batchSize()) : null;
        long lastCheckpoint = System.nanoTime();
        for (int epoch = run.completedEpochs + 1; epoch <= spec.epochs(); epoch++) {
            long epochStart = System.nanoTime() - (long) (run.epochSeconds * 1e9);
            for (TrainingListener l : listeners) {
                l.epochStarted(epoch, spec.epochs(), n);
            }
            int first = run.nextExample;
            if (first == 0) {
                shuffleInPlace(order, shuffle);
                run.lossSum = 0;
            }
            for (int start = first; start < n; start += spec.batchSize()) {
                int end = Math.min(n, start + spec.batchSize());
                DataSet batch = ahead != null ? ahead.take(order, epoch, start)
                        : batch(features, targets, Arrays.copyOfRange(order, start, end), seed, epoch, start, buffers);
                double batchLoss = steps.fit(batch);
                run.lossSum += batchLoss * (end - start);
                for (TrainingListener l : listeners) {
                    l.batchDone(end, batchLoss);
                }
                if (sink != null && end < n && policy.dueByTime(System.nanoTime() - lastCheckpoint)) {
                    run.nextExample = end;
                    run.epochSeconds = (System.nanoTime() - epochStart) / 1e9;
                    sink.save(net, run.state(companions));
                    lastCheckpoint = System.nanoTime();
                }
            }
            // fit(DataSet) does not advance the epoch counter that per-epoch schedules read
            net.incrementEpochCount();
            double accuracy = validation.size() > 0 ? Accuracy.of(net, validation) : Double.NaN;
            double seconds = (System.nanoTime() - epochStart) / 1e9;
            EpochMetrics metrics = new EpochMetrics(epoch, run.lossSum / n, accuracy, seconds, n / seconds);
            boolean best = run.epochDone(metrics, net, validation.size() == 0);
            if (sink != null && policy.dueAtEpochEnd(epoch, spec.epochs())) {
                sink.save(net, run.state(companions));
                lastCheckpoint = System.nanoTime();
            }
            for (TrainingListener l : listeners) {
                l.epochDone(metrics, best);
            }
        }
    }

    /** One batch as trained on: the rows gathered, augmented if asked, and the teacher's targets added if given. */
    DataSet batch(INDArray features, INDArray targets, int[] rows, long seed, int epoch, int start) {
        return batch(features, targets, rows, seed, epoch, start, null);
    }

    /**
     * As {@link #batch(INDArray, INDArray, int[], long, int, int)}, gathering the rows into {@code reuse}'s
     * arrays when it is given and its shape fits: a fresh native buffer per batch cost about 15% of a small
     * network's step (the allocation, not the copy); {@link RowGather} copies the rows. Safe because nothing
     * keeps a batch past its step.
     */
    DataSet batch(INDArray features, INDArray targets, int[] rows, long seed, int epoch, int start,
            BatchBuffers reuse) {
        INDArray x;
        INDArray y;
        if (reuse != null && reuse.fits(rows.length)) {
            x = RowGather.into(features, reuse.features, rows);
            y = RowGather.into(targets, reuse.targets, rows);
        } else {
            x = Nd4j.pullRows(features, 1, rows);
            y = Nd4j.pullRows(targets, 1, rows);
        }
        if (augmenter != null) {
            Augmenter.View view = augmenter.apply(x, y, seed, epoch, start);
            x = view.features();
            y = view.labels();
        }
        if (teacher != null) {
            y = DistillationLoss.labels(y, teacher.logits(x));
        }
        return new DataSet(x, y);
    }

    /** A full batch's inputs and targets, gathered into again at every step. */
    static final class BatchBuffers {
        final INDArray features;
        final INDArray targets;

        BatchBuffers(INDArray allFeatures, INDArray allTargets, int batchSize) {
            this.features = Nd4j.create(allFeatures.dataType(), batchSize, allFeatures.columns());
            this.targets = Nd4j.create(allTargets.dataType(), batchSize, allTargets.columns());
        }

        boolean fits(int rows) {
            return rows == features.rows();
        }
    }

    /**
     * Batches prepared ahead on daemon threads of their own, so that augmenting a batch and the teacher's forward
     * pass on it overlap the network's step on the batch before: one thread, one batch ahead; with a teacher that
     * several threads may call at once ({@link TeacherLogits.Live#concurrent}), {@code depth} threads and batches
     * ahead. Why more than one: ND4J's thread count is the process's, so while a small student trains on one
     * thread the teacher's forward pass runs on one too, and a teacher costing several student steps a batch
     * left the other cores idle. One set of buffers more than the batches ahead is used in turn: the batch being
     * trained on is never one being gathered into. What a thread throws, {@link #take} throws.
     */
    private final class Prefetch implements AutoCloseable {
        /** The executor's threads, to be waited for until they have ended. */
        private final List<Thread> started = new java.util.concurrent.CopyOnWriteArrayList<>();
        private final ExecutorService threads;
        private final int depth;
        private final INDArray features;
        private final INDArray targets;
        private final long seed;
        private final BatchBuffers[] buffers;
        private int turn;
        /** The batches submitted and not yet taken, in the epoch's order. */
        private final java.util.ArrayDeque<Pending> pending = new java.util.ArrayDeque<>();
        /** Where the next batch to submit starts. */
        private int nextStart;

        private record Pending(int start, Future<DataSet> batch) {
        }

        Prefetch(INDArray features, INDArray targets, long seed, int depth) {
            this.features = features;
            this.targets = targets;
            this.seed = seed;
            this.depth = depth;
            this.threads = Executors.newFixedThreadPool(depth, r -> {
                Thread t = new Thread(r, PREFETCH_THREAD);
                t.setDaemon(true);
                started.add(t);
                return t;
            });
            this.buffers = new BatchBuffers[depth + 1];
            for (int i = 0; i < buffers.length; i++) {
                buffers[i] = new BatchBuffers(features, targets, spec.batchSize());
            }
        }

        /**
         * The batch of {@code epoch} at {@code start} of {@code order}, having set the epoch's next ones going (up
         * to {@code depth}). A checkpoint taken before the next call does not see those: each is a function of its
         * position, made again on resuming.
         */
        DataSet take(int[] order, int epoch, int start) {
            if (pending.isEmpty()) {
                nextStart = start;
                submitAhead(order, epoch);
            }
            Pending next = pending.poll();
            if (next.start() != start) {
                throw new IllegalStateException("the batch at " + start + " was asked for, the one prepared starts at "
                        + next.start());
            }
            DataSet batch = await(next.batch());
            submitAhead(order, epoch);
            return batch;
        }

        /** Submits the epoch's next batches until {@code depth} are pending or the epoch has none left. */
        private void submitAhead(int[] order, int epoch) {
            while (pending.size() < depth && nextStart < order.length) {
                int start = nextStart;
                // the rows are copied here: the next epoch's shuffle rearranges order on this thread
                int[] rows = Arrays.copyOfRange(order, start, Math.min(order.length, start + spec.batchSize()));
                BatchBuffers into = buffers[turn];
                turn = (turn + 1) % buffers.length;
                pending.add(new Pending(start, threads.submit(() -> {
                    // workspaces are per thread: what is handed to the training thread must live outside them
                    try (MemoryWorkspace outside = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                        return batch(features, targets, rows, seed, epoch, start, into);
                    }
                })));
                nextStart += spec.batchSize();
            }
        }

        private static DataSet await(Future<DataSet> batch) {
            try {
                return batch.get();
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RuntimeException r) {
                    throw r;
                }
                if (e.getCause() instanceof Error err) {
                    throw err;
                }
                throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the next batch", e);
            }
        }

        /** Ends the threads, after the batches they may still be preparing: the teacher is free again after this. */
        @Override
        public void close() {
            threads.shutdownNow();
            boolean interrupted = false;
            for (Thread t : started) {
                while (t.isAlive()) {
                    try {
                        t.join();
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The loop's mutable bookkeeping, and the {@link TrainingState} it amounts to at any batch boundary. */
    private static final class Run {
        final int examples;
        final List<EpochMetrics> history;
        final long started = System.nanoTime();
        final double secondsBefore;
        int completedEpochs;
        int nextExample;
        double lossSum;
        double epochSeconds;
        INDArray bestParams;
        double bestAccuracy = Double.NEGATIVE_INFINITY;
        int bestEpoch;

        Run(int examples) {
            this.examples = examples;
            this.history = new ArrayList<>();
            this.secondsBefore = 0;
        }

        Run(TrainingState s) {
            examples = s.examples();
            history = new ArrayList<>(s.history());
            secondsBefore = s.seconds();
            completedEpochs = s.completedEpochs();
            nextExample = s.nextExample();
            lossSum = s.lossSum();
            epochSeconds = s.epochSeconds();
            bestParams = s.bestParams();
            bestAccuracy = s.bestAccuracy();
            bestEpoch = s.bestEpoch();
        }

        /** Records a finished epoch; true if it is the best so far (with no validation data, every epoch is). */
        boolean epochDone(EpochMetrics metrics, Network net, boolean noValidation) {
            history.add(metrics);
            completedEpochs = metrics.epoch();
            nextExample = 0;
            lossSum = 0;
            epochSeconds = 0;
            boolean best = noValidation || metrics.validationAccuracy() > bestAccuracy;
            if (best) {
                bestAccuracy = metrics.validationAccuracy();
                bestEpoch = metrics.epoch();
                bestParams = net.params().dup();
            }
            return best;
        }

        double seconds() {
            return secondsBefore + (System.nanoTime() - started) / 1e9;
        }

        TrainingState state(Map<String, Network> companions) {
            return new TrainingState(examples, completedEpochs, nextExample, lossSum, epochSeconds, history,
                    bestEpoch, bestAccuracy, bestParams, seconds(), Nd4j.getRandom().rootState(),
                    Nd4j.getRandom().nodeState(), companions);
        }
    }

    /**
     * Fisher-Yates, continuing from the previous epoch's order so each epoch depends only on the seed: the
     * shuffle of every training loop ({@code MutualLearning}'s too).
     */
    public static void shuffleInPlace(int[] order, Random random) {
        for (int i = order.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int tmp = order[i];
            order[i] = order[j];
            order[j] = tmp;
        }
    }
}
