package dev.distill.core.quant;

import java.util.Optional;

/**
 * The inner loop of the integer path: Σ w·x over int8 codes into an int32. Two kernels: plain Java, and
 * one on the JDK's incubating Vector API, which is used only when the JVM was started with
 * {@code --add-modules jdk.incubator.vector} (the launcher does so with {@code DISTILL_VECTOR_API=1}) and
 * the system property {@code distill.vector} is not {@code false}. Both give the same integers.
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

    /** The Vector API kernel, when the JVM has the incubator module. */
    static Optional<Int8Dot> vector() {
        return VectorSupport.KERNEL;
    }

    /** The Vector API kernel when it is available and not switched off, else the plain-Java one. */
    static Int8Dot best() {
        return "false".equals(System.getProperty("distill.vector")) ? scalar() : vector().orElse(scalar());
    }

    /** Loads the Vector API kernel reflectively: linking it without the module would fail. */
    final class VectorSupport {
        static final Optional<Int8Dot> KERNEL = load();

        private VectorSupport() {
        }

        private static Optional<Int8Dot> load() {
            if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
                return Optional.empty();
            }
            try {
                return Optional.of((Int8Dot) Class.forName("dev.distill.core.quant.VectorInt8Dot")
                        .getDeclaredConstructor().newInstance());
            } catch (ReflectiveOperationException | LinkageError e) {
                return Optional.empty();
            }
        }
    }
}
