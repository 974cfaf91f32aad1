package dev.distill.runner.bench;

import java.util.Locale;
import java.util.Optional;

/**
 * A one-line warning for a training started on a machine that is already busy. ND4J's OpenMP threads
 * spin while they wait for each other; with more runnable threads than cores they mostly wait. On this
 * project's 2-core machines, with the load average near 5, the Fashion-MNIST teacher trained about 5
 * times slower with 2 OpenMP threads than with 1 (a throw-away timing program, both in one session).
 * The thread count is not changed for the user: it can change results in the last bits, so it is theirs
 * to choose.
 */
public final class BusyMachine {

    private BusyMachine() {
    }

    /** The warning for this process, if the machine is busy and ND4J will use more than one thread. */
    public static Optional<String> warning() {
        return warning(MachineInfo.loadAverage(), Runtime.getRuntime().availableProcessors(),
                System.getenv("OMP_NUM_THREADS"));
    }

    /**
     * @param load       the 1-minute load average before this process starts working (NaN if unknown)
     * @param cores      the processors this JVM may use
     * @param ompSetting the OMP_NUM_THREADS variable, or null when unset (ND4J then uses one thread per core)
     */
    static Optional<String> warning(double load, int cores, String ompSetting) {
        int threads = cores;
        if (ompSetting != null && !ompSetting.isBlank()) {
            try {
                threads = Integer.parseInt(ompSetting.trim());
            } catch (NumberFormatException e) {
                return Optional.of("OMP_NUM_THREADS='" + ompSetting + "' is not a number of threads; ND4J will"
                        + " ignore it (use e.g. OMP_NUM_THREADS=1)");
            }
        }
        if (Double.isNaN(load) || threads <= 1 || load < cores) {
            return Optional.empty();
        }
        return Optional.of(String.format(Locale.ROOT, "warning: the machine is busy (load average %.1f on %d cores)"
                + " and ND4J will run %d OpenMP threads, which spin while waiting and can train several times"
                + " slower under contention; OMP_NUM_THREADS=1 is usually faster then", load, cores, threads));
    }
}
