package dev.distill.models.network;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.dropout.IDropout;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.optimize.solvers.BaseOptimizer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.nativeblas.NativeOpsHolder;

/**
 * Optimizer steps on a batch split across threads: synchronous data parallelism inside one process. Each
 * part's gradient is computed on its own thread by a replica that shares the network's parameter array (no
 * copy per step), the parts' gradients are added, and the network's own updater applies the sum once, as
 * {@code fit} would: DL4J's gradients are sums over examples that its updater divides by the batch size,
 * so the step is the whole batch's step, up to the rounding of adding the parts in another order.
 *
 * <p>Why: ND4J's convolutions scale badly over OpenMP threads on a small machine (the protocol teacher trained
 * at 1,214 samples/s on one thread and 1,526 on two, docs/results.md), while two independent one-thread
 * halves keep both cores busy with no synchronisation inside an op. Each part runs with whatever thread count
 * ND4J is set to; the caller sets one ({@link ComputeThreads}).
 *
 * <p>Only networks whose step does not depend on how the batch is split qualify ({@link #supports}): no batch
 * normalisation (its statistics are per part), no dropout or weight noise (their random draws come from
 * per-thread generators), no DL4J listeners (they would see one part's gradient). Results are deterministic for
 * a given number of parts; they differ from the unsplit step in the last bits of the sums.
 */
public final class SplitBatchSteps implements TrainingSteps {

    private final MultiLayerNetwork net;
    private final List<MultiLayerNetwork> replicas = new ArrayList<>();
    private final ExecutorService pool;
    private final int parts;

    private SplitBatchSteps(MultiLayerNetwork net, int parts) {
        this.net = net;
        this.parts = parts;
        // the replicas compute as the network does (bench times both conv backends)
        ConvBackend backend = ConvBackend.acceleratedLayers(net.getLayers()) > 0 ? ConvBackend.ONEDNN : ConvBackend.DL4J;
        boolean spedUp = Networks.hasInstalledLayers(net.getLayers());
        for (int i = 1; i < parts; i++) {
            MultiLayerNetwork replica = new MultiLayerNetwork(net.getLayerWiseConfigurations().clone());
            replica.init(net.params(), false);   // the network's own parameter array: updates are seen at once
            backend.apply(replica);
            if (spedUp) {
                Networks.installLayers(Network.of(replica));   // computes gradients as the network does
            }
            replicas.add(replica);
        }
        pool = Executors.newFixedThreadPool(parts - 1, r -> {
            Thread t = new Thread(r, "distill-part");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Steps for {@code network} on batches split into {@code parts} (at least 2).
     *
     * @throws IllegalArgumentException if {@code network} does not {@link #supports qualify}
     */
    public static SplitBatchSteps of(Network network, int parts) {
        if (parts < 2) {
            throw new IllegalArgumentException("a split batch has at least 2 parts, not " + parts);
        }
        String why = whyNot(network);
        if (why != null) {
            throw new IllegalArgumentException("cannot split this network's batches: " + why);
        }
        return new SplitBatchSteps(((Network.Sequential) network).net(), parts);
    }

    /** Whether a step of {@code network} is the same whichever way its batch is split. */
    public static boolean supports(Network network) {
        return whyNot(network) == null;
    }

    private static String whyNot(Network network) {
        if (!(network instanceof Network.Sequential s)) {
            return "it is a graph";
        }
        MultiLayerNetwork net = s.net();
        if (!net.getListeners().isEmpty()) {
            return "it has training listeners";
        }
        for (Layer layer : net.getLayers()) {
            org.deeplearning4j.nn.conf.layers.Layer conf = layer.conf().getLayer();
            if (conf instanceof BatchNormalization) {
                return "batch normalisation computes statistics per part";
            }
            IDropout dropout = conf.getIDropout();
            if (dropout != null) {
                return "dropout draws from per-thread generators";
            }
            if (conf instanceof BaseLayer b && b.getWeightNoise() != null) {
                return "weight noise draws from per-thread generators";
            }
        }
        return null;
    }

    /** One optimizer step on {@code batch}; returns its loss (the parts' losses weighted by their sizes). */
    @Override
    public double fit(DataSet batch) {
        INDArray x = batch.getFeatures();
        INDArray y = batch.getLabels();
        int n = (int) x.rows();
        if (n < 2 * parts) {   // a tiny last batch: not worth the threads
            net.fit(batch);
            return net.score();
        }
        int[] bounds = new int[parts + 1];
        for (int p = 0; p <= parts; p++) {
            bounds[p] = (int) ((long) n * p / parts);
        }
        // OpenMP's thread count is a per-thread setting: the parts compute with the caller's
        int openMpThreads = NativeOpsHolder.getInstance().getDeviceNativeOps().ompGetMaxThreads();
        List<Future<Double>> others = new ArrayList<>();
        for (int p = 1; p < parts; p++) {
            MultiLayerNetwork replica = replicas.get(p - 1);
            INDArray xp = rows(x, bounds[p], bounds[p + 1]);
            INDArray yp = rows(y, bounds[p], bounds[p + 1]);
            others.add(pool.submit(() -> {
                NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(openMpThreads);
                return gradient(replica, xp, yp);
            }));
        }
        double lossSum = gradient(net, rows(x, 0, bounds[1]), rows(y, 0, bounds[1])) * bounds[1];
        INDArray summed = net.getFlattenedGradients();
        for (int p = 1; p < parts; p++) {
            lossSum += join(others.get(p - 1)) * (bounds[p + 1] - bounds[p]);
            summed.addi(replicas.get(p - 1).getFlattenedGradients());
        }
        double loss = lossSum / n;
        // what DL4J's StochasticGradientDescent does after its own gradient: the updater divides by the batch
        // size and turns the gradient into the update in place, the parameters take it, the counter advances
        net.getUpdater().update(net, net.gradient(), net.getIterationCount(), net.getEpochCount(), n,
                LayerWorkspaceMgr.noWorkspaces());
        net.params().subi(summed.reshape(summed.length()));
        BaseOptimizer.incrementIterationCount(net, 1);
        BaseOptimizer.applyConstraints(net);
        net.setScore(loss);
        return loss;
    }

    private static double gradient(MultiLayerNetwork model, INDArray x, INDArray y) {
        model.setInput(x);
        model.setLabels(y);
        model.computeGradientAndScore();
        double score = model.score();
        model.clearLayersStates();
        return score;
    }

    private static INDArray rows(INDArray a, int from, int to) {
        org.nd4j.linalg.indexing.INDArrayIndex[] index = new org.nd4j.linalg.indexing.INDArrayIndex[a.rank()];
        index[0] = NDArrayIndex.interval(from, to);
        for (int d = 1; d < index.length; d++) {
            index[d] = NDArrayIndex.all();
        }
        return a.get(index);
    }

    private static double join(Future<Double> part) {
        try {
            return part.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while a batch part trained", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(cause);
        }
    }

    /** Stops the part threads, releasing their ND4J workspaces. */
    @Override
    public void close() {
        List<Future<?>> cleanups = new ArrayList<>();
        for (int i = 0; i < parts - 1; i++) {
            cleanups.add(pool.submit(() -> Nd4j.getWorkspaceManager().destroyAllWorkspacesForCurrentThread()));
        }
        pool.shutdown();
        for (Future<?> c : cleanups) {
            try {
                c.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException e) {
                // nothing left to release
            }
        }
    }
}
