package dev.distill.core.train;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.RmsProp;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.schedule.ISchedule;

/** Optimizers a config may name, with DL4J's default hyper-parameters besides the learning rate. */
public enum Optimizer {
    ADAM, SGD, NESTEROVS, RMSPROP;

    IUpdater updater(ISchedule learningRate) {
        return switch (this) {
            case ADAM -> new Adam(learningRate);
            case SGD -> new Sgd(learningRate);
            case NESTEROVS -> new Nesterovs(learningRate, 0.9);
            case RMSPROP -> new RmsProp(learningRate);
        };
    }

    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static String knownNames() {
        return Arrays.stream(values()).map(Optimizer::configName).collect(Collectors.joining(", "));
    }
}
