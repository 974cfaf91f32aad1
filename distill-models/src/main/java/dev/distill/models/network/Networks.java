package dev.distill.models.network;

import dev.distill.models.spec.GraphSpec;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.ModelSpec;
import dev.distill.models.spec.NetworkSpec;
import java.util.List;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.api.Updater;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.ILossFunction;

/** Builds the network a {@link NetworkSpec} declares: sequential or graph. */
public final class Networks {

    private Networks() {
    }

    /** A new, initialised network; the arguments mean what they mean for {@link NetworkFactory#build}. */
    public static Network build(NetworkSpec spec, InputShape input, IUpdater updater, double weightDecay, long seed,
            ILossFunction outputLoss) {
        if (spec instanceof ModelSpec m) {
            return Network.of(NetworkFactory.build(m, input, updater, weightDecay, seed, outputLoss));
        }
        return Network.of(GraphFactory.build((GraphSpec) spec, input, updater, weightDecay, seed, outputLoss));
    }

    /**
     * Puts into {@code net} the project's faster computation of the same training steps: Adam's update in Java
     * ({@link JavaAdamUpdater}), updater blocks that skip regularization passes with nothing to apply
     * ({@link LeanUpdaterBlock}), dense layers that skip work DL4J repeats or drops ({@link LeanDenseBackprop}) and an
     * output layer that evaluates its loss once a step ({@link OnePassOutputLayer}), bit for bit DL4J's, except for
     * what runs in Java, DL4J's results up to rounding: convolutions over few input channels
     * ({@link FewChannelConvolution}) and softmax cross-entropy. The network's configuration and files do not
     * change. The layers stay until the returned handle is closed, which puts DL4J's own layer objects back (Adam
     * and the updater blocks stay: the same bits and state either way), so that whatever the network computes
     * after its training (an evaluation, a later stage's own {@code fit}) is DL4J's computation whether or not it
     * was trained in this process: a run resumed from a checkpoint then matches the run that was not interrupted.
     */
    public static SpedUpLayers speedUpTraining(Network net) {
        JavaAdamUpdater.install(net);
        LeanUpdaterBlock.install(net);
        return installLayers(net);
    }

    /** The layers of {@link #speedUpTraining}: what a replica of a sped-up network needs to compute as it does. */
    static SpedUpLayers installLayers(Network net) {
        SpedUpLayers handle = new SpedUpLayers(net);
        LeanDenseBackprop.install(net);
        FewChannelConvolution.install(net);
        OnePassOutputLayer.install(net);
        return handle;
    }

    /** The layer objects a network had before {@link #speedUpTraining}, put back by {@link #close}. */
    public static final class SpedUpLayers implements AutoCloseable {

        private final Layer[] running;
        private final Layer[] own;

        private SpedUpLayers(Network net) {
            running = net instanceof Network.Sequential s ? s.net().getLayers() : new Layer[0];
            own = running.clone();
        }

        /** Puts the network's earlier layer objects back, with the step and epoch counts the others reached. */
        @Override
        public void close() {
            for (int i = 0; i < running.length; i++) {
                if (running[i] != own[i]) {
                    own[i].setIterationCount(running[i].getIterationCount());
                    own[i].setEpochCount(running[i].getEpochCount());
                    running[i] = own[i];
                }
            }
        }
    }

    /**
     * The blocks of {@code net}'s updater, made if it has none yet (DL4J makes it at the first step), as a list the
     * caller may replace blocks in; empty for an updater without blocks.
     */
    static List<UpdaterBlock> updaterBlocks(Network net) {
        Model model = net.model();
        Updater updater = model instanceof MultiLayerNetwork m ? m.getUpdater()
                : ((ComputationGraph) model).getUpdater();
        return updater instanceof BaseMultiLayerUpdater<?> blocks ? blocks.getUpdaterBlocks() : List.of();
    }

    /** Whether any of {@code layers} is one {@link #installLayers} puts in. */
    static boolean hasInstalledLayers(Layer[] layers) {
        for (Layer layer : layers) {
            if (layer instanceof LeanDenseBackprop || layer instanceof FewChannelConvolution
                    || layer instanceof OnePassOutputLayer) {
                return true;
            }
        }
        return false;
    }
}
