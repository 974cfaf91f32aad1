package dev.distill.runner.bench;

import dev.distill.models.network.ConvBackend;
import java.util.List;

/**
 * How much the benchmark measures.
 *
 * @param repeats        timed repeats per figure; the median is reported
 * @param trainBatches   training batches per timed repeat
 * @param inferBatches   batches of {@link #INFER_BATCH} per timed inference repeat
 * @param latencyCalls   single-example calls timed for the latency percentiles
 * @param kdExamples     training examples per epoch of the distillation-overhead measurement (0: all)
 * @param kdRepeats      epoch pairs timed for the distillation overhead, and rounds of the live teacher's overhead:
 *                       three times {@code repeats} (whether a ratio near 1 is under 1.1 needs more than the rest),
 *                       as many in the quick smoke test
 * @param liveExamples   training examples per epoch of the live teacher's overhead (0: all)
 * @param backends       conv backends to measure conv models on, interleaved repeat by repeat
 */
public record BenchSettings(int repeats, int trainBatches, int inferBatches, int latencyCalls, int kdExamples,
        int kdRepeats, int liveExamples, List<ConvBackend> backends) {

    /** Inference throughput is measured at this batch size. */
    public static final int INFER_BATCH = 256;

    public BenchSettings {
        backends = List.copyOf(backends);
        if (repeats < 1 || kdRepeats < 1 || trainBatches < 1 || inferBatches < 1 || latencyCalls < 1 || kdExamples < 0
                || liveExamples < 0) {
            throw new IllegalArgumentException("benchmark sizes must be positive");
        }
        if (backends.isEmpty()) {
            throw new IllegalArgumentException("at least one conv backend");
        }
    }

    /**
     * The figures the README quotes: a few minutes on 2 cores. The live teacher's epochs are a part of the
     * training set: four epochs a round, a CNN teacher's forward pass in two of them.
     */
    public static BenchSettings full(List<ConvBackend> backends) {
        return new BenchSettings(5, 20, 8, 2000, 0, 15, 10_000, backends);
    }

    /** A smoke test of the command, under a minute: checks that it works, not the figures. */
    public static BenchSettings quick(List<ConvBackend> backends) {
        return new BenchSettings(2, 2, 1, 50, 2000, 2, 512, backends);
    }

    /** {@code n} batches of {@link #INFER_BATCH} per timed inference repeat. */
    public BenchSettings withInferBatches(int n) {
        return new BenchSettings(repeats, trainBatches, n, latencyCalls, kdExamples, kdRepeats, liveExamples, backends);
    }

    /** {@code n} single-example calls timed for every latency figure. */
    public BenchSettings withLatencyCalls(int n) {
        return new BenchSettings(repeats, trainBatches, inferBatches, n, kdExamples, kdRepeats, liveExamples, backends);
    }

    /** {@code n} repeats for every figure, and three times as many rounds of the overhead ratios. */
    public BenchSettings withRepeats(int n) {
        return new BenchSettings(n, trainBatches, inferBatches, latencyCalls, kdExamples, 3 * n, liveExamples,
                backends);
    }
}
