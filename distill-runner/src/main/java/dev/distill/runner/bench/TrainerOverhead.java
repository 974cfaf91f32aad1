package dev.distill.runner.bench;

import dev.distill.core.data.LabeledData;
import dev.distill.core.train.Trainer;
import dev.distill.core.train.TrainingSpec;
import dev.distill.models.network.ComputeThreads;
import dev.distill.models.network.TrainingSteps;
import dev.distill.models.network.Network;
import dev.distill.models.network.Networks;
import dev.distill.models.spec.InputShape;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The project's {@link Trainer} beside the engine's floor: the same network trained by DL4J's plain
 * {@code fit} on batches built beforehand, the same examples, in turns in one process. What the
 * Trainer adds (gathering shuffled rows, listeners, bookkeeping) is the gap; what remains is the
 * engine's, broken down by step kind from a profile of both.
 *
 * <p>Both sides are timed on the wall clock and on this thread's CPU clock: with one OpenMP thread
 * (the benchmark's advice) all of ND4J's work runs on the calling thread, so the CPU ratio holds on a
 * loaded machine where the wall-clock ratio wanders; with more threads only the wall clock counts.
 */
final class TrainerOverhead {

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private TrainerOverhead() {
    }

    /**
     * Measures {@code repeats} turns (after one untimed turn) of one epoch over the first {@code examples}
     * training examples.
     *
     * @param newNetwork builds a fresh network of the model with cross-entropy (called once per side)
     */
    static BenchReport.TrainerFigures measure(String model, Supplier<Network> newNetwork, TrainingSpec training,
            LabeledData train, int examples, int repeats) {
        int n = Math.min(examples, train.size());
        INDArray features = train.features().get(NDArrayIndex.interval(0, n), NDArrayIndex.all()).dup();
        INDArray oneHot = train.oneHot().get(NDArrayIndex.interval(0, n), NDArrayIndex.all()).dup();
        List<DataSet> batches = new ArrayList<>();
        for (int start = 0; start < n; start += training.batchSize()) {
            int end = Math.min(n, start + training.batchSize());
            batches.add(new DataSet(features.get(NDArrayIndex.interval(start, end), NDArrayIndex.all()).dup(),
                    oneHot.get(NDArrayIndex.interval(start, end), NDArrayIndex.all()).dup()));
        }
        TrainingSpec oneEpoch = new TrainingSpec(1, training.batchSize(), training.optimizer(),
                training.learningRate(), training.schedule(), training.weightDecay());
        Trainer trainer = new Trainer(oneEpoch, List.of());
        LabeledData noValidation = train.subset(new int[0]);
        Network floorNet = newNetwork.get();
        Network trainerNet = newNetwork.get();
        // the engine's floor computed as the Trainer computes this network (Networks.speedUpTraining; ComputeThreads'
        // plan: threads, and batches split in parts where it splits them), so that the ratio is the Trainer's own
        // overhead
        ComputeThreads.Plan plan = ComputeThreads.planTraining(floorNet, features, training.batchSize());
        // made once: a split's replicas are the Trainer's per-training cost, not the engine's per-epoch one
        try (Networks.SpedUpLayers spedUp = Networks.speedUpTraining(floorNet);
                TrainingSteps floorSteps = TrainingSteps.of(floorNet, plan)) {
            Runnable floor = () -> {
                try (ComputeThreads.Scope restore = ComputeThreads.use(plan.threadsPerPart())) {
                    batches.forEach(floorSteps::fit);
                }
            };
            return measure(model, n, floor, () -> trainer.fit(trainerNet, features, oneHot, noValidation, 0, null),
                    repeats);
        }
    }

    /** The figures of {@code ours} against {@code floor}, each training {@code n} examples a run. */
    private static BenchReport.TrainerFigures measure(String model, int n, Runnable floor, Runnable ours,
            int repeats) {
        floor.run();
        ours.run();
        List<Double> floorWall = new ArrayList<>();
        List<Double> floorCpu = new ArrayList<>();
        List<Double> oursWall = new ArrayList<>();
        List<Double> oursCpu = new ArrayList<>();
        for (int r = 0; r < repeats; r++) {
            // ABBA: whichever runs second inherits the first one's garbage and cache state
            if (r % 2 == 0) {
                time(floor, n, floorWall, floorCpu);
                time(ours, n, oursWall, oursCpu);
            } else {
                time(ours, n, oursWall, oursCpu);
                time(floor, n, floorWall, floorCpu);
            }
        }
        // profiled apart from the timed runs: sampling every 2 ms slowed the student's steps by a quarter and more
        StepProfile profile = new StepProfile();
        profile.start();
        floor.run();
        ours.run();
        List<List<String>> stacks = profile.stop(Thread.currentThread());
        String trainerFit = Trainer.class.getName() + ".fit";
        String here = TrainerOverhead.class.getName();
        Map<String, Double> oursProfile = StepProfile.shares(stacks, frames -> frames.contains(trainerFit));
        Map<String, Double> floorProfile = StepProfile.shares(stacks,
                frames -> !frames.contains(trainerFit) && frames.stream().anyMatch(f -> f.startsWith(here)));
        double floorRate = Stopwatch.median(floorWall);
        double oursRate = Stopwatch.median(oursWall);
        return new BenchReport.TrainerFigures(model, n, floorRate, oursRate, oursRate / floorRate,
                Stopwatch.median(oursCpu) / Stopwatch.median(floorCpu), Stopwatch.median(floorCpu),
                Stopwatch.median(oursCpu), floorProfile, oursProfile);
    }

    /** Adds {@code work}'s samples per second on the wall clock and on this thread's CPU clock. */
    private static void time(Runnable work, int samples, List<Double> wall, List<Double> cpu) {
        long cpuStart = THREADS.getCurrentThreadCpuTime();
        long wallStart = System.nanoTime();
        work.run();
        wall.add(samples / ((System.nanoTime() - wallStart) / 1e9));
        cpu.add(samples / ((THREADS.getCurrentThreadCpuTime() - cpuStart) / 1e9));
    }
}
