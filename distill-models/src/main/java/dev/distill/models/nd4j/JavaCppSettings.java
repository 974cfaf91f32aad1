package dev.distill.models.nd4j;

/**
 * JavaCPP settings (the native-memory layer under ND4J) that must be in place before JavaCPP's first
 * class loads: the CLI calls {@link #prepare()} on its first line; a Java caller passes the same
 * {@code -D} option on its command line.
 *
 * <p>{@code org.bytedeco.javacpp.maxPhysicalBytes=0}: by default JavaCPP reads the process's resident
 * size (from {@code /proc}) at every native allocation, to force a collection when it exceeds twice
 * {@code -Xmx}. ND4J allocates a few small native buffers per op (shape information), so that read was
 * 11% of the sampled CPU time of a 784-32-10 student's training step (Java Flight Recorder, one thread),
 * and turning it off trained it 32-61% more samples per CPU second (docs/results.md). JavaCPP's other cap, {@code maxBytes} (the native bytes
 * it allocated, default {@code -Xmx}), still forces the collection. A value the user set is kept.
 */
public final class JavaCppSettings {

    static final String MAX_PHYSICAL_BYTES = "org.bytedeco.javacpp.maxPhysicalBytes";

    private JavaCppSettings() {
    }

    /** Turns off the per-allocation resident-size check unless the user set it (in either spelling). */
    public static void prepare() {
        if (System.getProperty(MAX_PHYSICAL_BYTES) == null
                && System.getProperty(MAX_PHYSICAL_BYTES.toLowerCase(java.util.Locale.ROOT)) == null) {
            System.setProperty(MAX_PHYSICAL_BYTES, "0");
        }
    }
}
