package dev.distill.runtime;

import java.util.Iterator;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * The inner loop of the int8 path: Σ w·x over int8 codes into an int32. The runtime has a plain-Java
 * kernel; a faster one (distill-core's Vector API kernel, which needs Java 16+ and
 * {@code --add-modules jdk.incubator.vector}) is found through {@link ServiceLoader} when it is on the
 * class path and loads, and is skipped otherwise: the runtime never requires it. The system property
 * {@code distill.vector=false} keeps the plain one. Every kernel gives the same integers.
 */
public interface Int8Dot {

    /** Σ {@code w[offset + i] × x[i]} for i in [0, n). */
    int dot(byte[] w, int offset, byte[] x, int n);

    /** "vector" or "scalar", for reports. */
    String name();

    /** The plain-Java kernel. */
    static Int8Dot scalar() {
        return ScalarInt8Dot.INSTANCE;
    }

    /** A faster kernel found on the class path that loads in this JVM, if any. */
    static Optional<Int8Dot> vector() {
        return Providers.FOUND;
    }

    /** The faster kernel when one loads and is not switched off, else the plain-Java one. */
    static Int8Dot best() {
        return "false".equals(System.getProperty("distill.vector")) ? scalar() : vector().orElse(scalar());
    }

    /** The first provider that loads; linking one without its JDK module fails, which means "none". */
    final class Providers {
        static final Optional<Int8Dot> FOUND = load();

        private Providers() {
        }

        private static Optional<Int8Dot> load() {
            try {
                Iterator<Int8Dot> it = ServiceLoader.load(Int8Dot.class, Int8Dot.class.getClassLoader()).iterator();
                while (it.hasNext()) {
                    try {
                        return Optional.of(it.next());
                    } catch (ServiceConfigurationError | LinkageError | RuntimeException unavailable) {
                        // this provider cannot run here (no incubator module, no wide vectors): try the next
                    }
                }
            } catch (ServiceConfigurationError | LinkageError unavailable) {
                // a broken provider file: the plain kernel serves
            }
            return Optional.empty();
        }
    }
}
