package dev.distill.models.network;

import dev.distill.models.spec.GraphSpec;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.ModelSpec;
import dev.distill.models.spec.NetworkSpec;
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
     * Puts into {@code net} the project's faster computation of the same training steps, bit for bit: Adam's update
     * in Java ({@link JavaAdamUpdater}) and dense layers that skip work DL4J repeats or drops
     * ({@link LeanDenseBackprop}). The network's configuration and files do not change.
     */
    public static void speedUpTraining(Network net) {
        JavaAdamUpdater.install(net);
        LeanDenseBackprop.install(net);
    }
}
