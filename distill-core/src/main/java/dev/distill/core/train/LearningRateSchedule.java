package dev.distill.core.train;

import java.util.HashMap;
import java.util.Map;
import org.nd4j.linalg.schedule.ExponentialSchedule;
import org.nd4j.linalg.schedule.FixedSchedule;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.linalg.schedule.MapSchedule;
import org.nd4j.linalg.schedule.ScheduleType;
import org.nd4j.linalg.schedule.StepSchedule;

/**
 * How the learning rate changes from epoch to epoch. All schedules are per epoch: the trainer
 * advances DL4J's epoch counter at the end of every epoch.
 */
public sealed interface LearningRateSchedule {

    /** The DL4J schedule for a run of {@code epochs} epochs starting at {@code base}. */
    ISchedule toDl4j(double base, int epochs);

    /** The same rate throughout. */
    record Constant() implements LearningRateSchedule {
        public ISchedule toDl4j(double base, int epochs) {
            return new FixedSchedule(base);
        }
    }

    /** Multiply by {@code gamma} every {@code everyEpochs} epochs. */
    record Step(double gamma, int everyEpochs) implements LearningRateSchedule {
        public Step {
            if (!(gamma > 0 && gamma <= 1)) {
                throw new IllegalArgumentException("gamma must be in (0, 1], got " + gamma);
            }
            if (everyEpochs < 1) {
                throw new IllegalArgumentException("every_epochs must be a positive integer, got " + everyEpochs);
            }
        }

        public ISchedule toDl4j(double base, int epochs) {
            return new StepSchedule(ScheduleType.EPOCH, base, gamma, everyEpochs);
        }
    }

    /** Multiply by {@code gamma} every epoch. */
    record Exponential(double gamma) implements LearningRateSchedule {
        public Exponential {
            if (!(gamma > 0 && gamma <= 1)) {
                throw new IllegalArgumentException("gamma must be in (0, 1], got " + gamma);
            }
        }

        public ISchedule toDl4j(double base, int epochs) {
            return new ExponentialSchedule(ScheduleType.EPOCH, base, gamma);
        }
    }

    /** Half a cosine from the base rate down to {@code minRate} over the run (Loshchilov and Hutter 2017). */
    record Cosine(double minRate) implements LearningRateSchedule {
        public Cosine {
            if (!(minRate >= 0)) {
                throw new IllegalArgumentException("min_learning_rate must be non-negative, got " + minRate);
            }
        }

        public ISchedule toDl4j(double base, int epochs) {
            Map<Integer, Double> values = new HashMap<>();
            for (int e = 0; e < epochs; e++) {
                values.put(e, minRate + 0.5 * (base - minRate) * (1 + Math.cos(Math.PI * e / epochs)));
            }
            return new MapSchedule(ScheduleType.EPOCH, values);
        }
    }
}
