package dev.distill.models.nd4j;

import java.lang.reflect.Field;
import org.nd4j.linalg.api.ops.executioner.OpExecutioner;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Makes ND4J run its ops through {@link FencedOpExecutioner}, which keeps each op reachable until its
 * native call returns (without it, training could die in native code: see that class).
 *
 * <p>{@link #install()} is called by the entry points that run ND4J ops (the CLI, the network factory,
 * the trainer), so a Java caller gets it too. It sets ND4J's own {@code opexec} setting when ND4J has
 * not started yet, which is the clean way; if ND4J was already started with its plain executioner, it
 * swaps the executioner instance in place (ND4J keeps it in one static field that every op call reads).
 * {@code -Ddistill.nd4j.fence=false} turns it off, for the A/B in {@code tools/stress-native.sh}.
 */
public final class NativeSafety {

    /** ND4J's setting (backend properties, overridden by system properties) naming the executioner class. */
    private static final String OP_EXECUTIONER_SETTING = "opexec";

    private static volatile boolean installed;

    private NativeSafety() {
    }

    /** Whether the fence is wanted: on unless {@code distill.nd4j.fence=false}. */
    public static boolean enabled() {
        return !"false".equalsIgnoreCase(System.getProperty("distill.nd4j.fence", "true").trim());
    }

    /**
     * Names the fenced executioner in ND4J's settings without starting ND4J (cheap: for the CLI's first
     * line, so ND4J starts with it whenever it starts).
     */
    public static void prepare() {
        if (enabled() && System.getProperty(OP_EXECUTIONER_SETTING) == null) {
            System.setProperty(OP_EXECUTIONER_SETTING, FencedOpExecutioner.class.getName());
        }
    }

    /** Installs the fenced executioner once per process (a no-op when {@linkplain #enabled() disabled}). */
    public static synchronized void install() {
        if (installed || !enabled()) {
            return;
        }
        prepare();
        if (!(Nd4j.getExecutioner() instanceof FencedOpExecutioner)) {
            replaceExecutioner(new FencedOpExecutioner());
        }
        installed = true;
    }

    /** Whether ND4J's ops currently run through the fenced executioner. */
    public static boolean active() {
        return Nd4j.getExecutioner() instanceof FencedOpExecutioner;
    }

    private static void replaceExecutioner(OpExecutioner executioner) {
        try {
            Field field = Nd4j.class.getDeclaredField("OP_EXECUTIONER_INSTANCE");
            field.setAccessible(true);
            field.set(null, executioner);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot install the fenced ND4J executioner in this ND4J version", e);
        }
    }
}
