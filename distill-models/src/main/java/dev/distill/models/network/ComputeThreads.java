package dev.distill.models.network;

import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.nativeblas.NativeOpsHolder;

/**
 * How many threads ND4J computes a training step with, chosen per network.
 *
 * <p>Why: a small network's step is a few dozen short ops, and splitting each over several OpenMP
 * threads costs more than it saves; on a shared machine the extra threads also compete with each other
 * and with the JVM's own (on a quiet 2-core machine the 784-32-10 student trained 1.3x faster on one thread
 * than on two with passive OpenMP threads, 2.3x with spinning ones, and 10-20x faster under load). A large network's convolutions do gain from more
 * threads. So a training uses one thread when one batch costs fewer than {@link #ONE_THREAD_BELOW}
 * multiply-adds, and every allowed thread otherwise.
 *
 * <p>The allowed threads are {@code OMP_NUM_THREADS} when it is set (the user's cap, as before), else
 * the machine's cores; {@code -Ddistill.threads=N} forces N for every training. ND4J's thread settings
 * are process-wide: {@link #use} changes them for the duration of a training and puts them back after.
 * Trainings running at once in one JVM (Spark's {@code local[N]}) share them: each sets its own count when
 * it starts, so a large network's training may continue on another count than it started with (its speed
 * changes, and a threaded reduction may round differently); with {@code OMP_NUM_THREADS=1} nothing changes.
 */
public final class ComputeThreads {

    /**
     * Multiply-adds of one batch's forward pass below which one thread trains as fast as two or faster on this kind
     * of machine: measured (tools/threads/ThreadChoice.java, docs/results.md) equal at 68 million (an
     * 784-512-256-10 MLP at batch 128), faster on two from 156 million (a CNN 16-32) and at 594 million (the
     * protocol's teacher CNN: 1,526 against 1,214 samples/s).
     */
    public static final long ONE_THREAD_BELOW = 100_000_000L;

    private ComputeThreads() {
    }

    /** The threads a training may use: {@code OMP_NUM_THREADS} if set to a positive number, else the cores. */
    public static int allowed() {
        // ND4J ignores a malformed value too; bench says so (BusyMachine)
        int omp = positive(System.getenv("OMP_NUM_THREADS"));
        return omp > 0 ? omp : Runtime.getRuntime().availableProcessors();
    }

    /**
     * How to train {@code net} on batches of {@code batchSize} rows of {@code features} ({@code [n, ...]}; the cost
     * is counted on its first row; one thread when it has none): {@link #forBatch} on its cost, split when
     * {@link SplitBatchSteps#supports} it; {@code -Ddistill.threads=N} forces N threads on whole batches.
     */
    public static Plan planTraining(Network net, INDArray features, int batchSize) {
        int forced = forced();
        if (forced > 0) {
            return Plan.whole(forced);
        }
        if (features.rows() == 0) {
            return Plan.whole(1);
        }
        INDArray first = features.get(NDArrayIndex.interval(0, 1), NDArrayIndex.all());
        return forBatch(multiplyAdds(net, first) * batchSize, allowed(), batchSize, SplitBatchSteps.supports(net));
    }

    /**
     * The rule: one thread for a batch cheaper than {@link #ONE_THREAD_BELOW}; otherwise every allowed thread,
     * as parts of the batch on one thread each when the network's batches can be split (two halves on one thread
     * each trained the protocol teacher 1.3x and a CNN 16-32 1.5x as fast as whole batches on two threads:
     * tools/threads/ThreadChoice.java), never parts of fewer than {@link #MIN_ROWS_PER_PART} rows.
     */
    public static Plan forBatch(long multiplyAddsPerBatch, int allowed, int batchSize, boolean splittable) {
        int threads = forBatchCost(multiplyAddsPerBatch, allowed);
        int parts = splittable ? Math.min(threads, batchSize / MIN_ROWS_PER_PART) : 1;
        return parts < 2 ? Plan.whole(threads) : new Plan(parts, threads / parts);
    }

    /** The fewest rows a part of a split batch has: parts as small as this were not measured, let alone smaller. */
    public static final int MIN_ROWS_PER_PART = 32;

    /**
     * How a training computes: each batch split into {@code parts} computed at once ({@link SplitBatchSteps}; 1:
     * the whole batch), each part's ops on {@code threadsPerPart} of ND4J's threads.
     */
    public record Plan(int parts, int threadsPerPart) {
        public Plan {
            if (parts < 1 || threadsPerPart < 1) {
                throw new IllegalArgumentException("a compute plan has at least one part and one thread per part, not "
                        + parts + " x " + threadsPerPart);
            }
        }

        /** Whole batches on {@code threads} threads. */
        public static Plan whole(int threads) {
            return new Plan(1, threads);
        }

        /** The threads the training keeps busy. */
        public int threads() {
            return parts * threadsPerPart;
        }

        @Override
        public String toString() {
            String threads = threadsPerPart + (threadsPerPart == 1 ? " thread" : " threads");
            return parts == 1 ? threads : parts + " parts of each batch, " + threads + " each";
        }
    }

    /**
     * The count {@code -Ddistill.threads=N} forces, or 0 when it is not set.
     *
     * @throws IllegalArgumentException in one line when it is set to anything but a positive number
     */
    public static int forced() {
        String forced = System.getProperty("distill.threads");
        if (forced == null) {
            return 0;
        }
        int n = positive(forced);
        if (n < 1) {
            throw new IllegalArgumentException("-Ddistill.threads=" + forced + ": expected a positive number of threads");
        }
        return n;
    }

    /** The positive number {@code value} holds, or 0 when it is missing, malformed or not positive. */
    private static int positive(String value) {
        try {
            return value == null ? 0 : Math.max(0, Integer.parseInt(value.trim()));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** The thread count: one for a batch cheaper than {@link #ONE_THREAD_BELOW}, else all {@code allowed}. */
    public static int forBatchCost(long multiplyAddsPerBatch, int allowed) {
        return multiplyAddsPerBatch < ONE_THREAD_BELOW ? 1 : Math.max(1, allowed);
    }

    /**
     * Multiply-adds of one forward pass over {@code oneExample} ({@code [1, ...]}): each weight array (a
     * parameter named like {@code W}: dense, conv, depthwise and pointwise kernels) times the spatial
     * positions of its layer's output, and one per output value of a batch norm, as {@code ModelCost} counts
     * them from a spec. Biases are not counted.
     */
    public static long multiplyAdds(Network net, INDArray oneExample) {
        long total = 0;
        for (Map.Entry<Layer, INDArray> e : net.layerOutputs(oneExample).entrySet()) {
            INDArray out = e.getValue();
            if (out == null) {
                continue;
            }
            long positions = 1;
            for (int d = 2; d < out.rank(); d++) {   // [1, channels, h, w] for conv layers, [1, units] for dense
                positions *= out.size(d);
            }
            for (Map.Entry<String, INDArray> p : e.getKey().paramTable().entrySet()) {
                if (p.getKey().contains("W")) {
                    total += p.getValue().length() * positions;
                } else if (p.getKey().equals("gamma")) {   // batch norm: one multiply-add per output value
                    total += out.length();
                }
            }
        }
        return total;
    }

    /** ND4J computing with {@code threads} threads until {@link Scope#close()} restores the previous counts. */
    public static Scope use(int threads) {
        Scope previous = new Scope(Nd4j.getEnvironment().maxMasterThreads(),
                NativeOpsHolder.getInstance().getDeviceNativeOps().ompGetMaxThreads(),
                Nd4j.factory().blas().getMaxThreads());
        set(threads, threads, threads);
        return previous;
    }

    /**
     * The three pools a step's ops run on: libnd4j's own loops (its "master threads"; its {@code setMaxThreads}
     * is a no-op in this version), OpenMP's (conv and pooling through oneDNN), and the BLAS's (matrix products).
     * None can go above the count the process started with.
     */
    private static void set(int libnd4jThreads, int openMpThreads, int blasThreads) {
        Nd4j.getEnvironment().setMaxMasterThreads(libnd4jThreads);
        NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(openMpThreads);
        Nd4j.factory().blas().setMaxThreads(blasThreads);
    }

    /** The thread counts to put back. */
    public static final class Scope implements AutoCloseable {
        private final int libnd4jThreads;
        private final int openMpThreads;
        private final int blasThreads;

        private Scope(int libnd4jThreads, int openMpThreads, int blasThreads) {
            this.libnd4jThreads = libnd4jThreads;
            this.openMpThreads = openMpThreads;
            this.blasThreads = blasThreads;
        }

        @Override
        public void close() {
            set(libnd4jThreads, openMpThreads, blasThreads);
        }
    }
}
