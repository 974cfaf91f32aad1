package dev.distill.models.network;

import java.lang.reflect.Field;
import java.util.Locale;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNBatchNormHelper;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNSubsamplingHelper;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.nativeblas.NativeOpsHolder;

/**
 * Which code computes convolution, pooling and batch-normalisation layers.
 *
 * <p>Why this exists: DL4J 1.0.0-M2.1 is meant to hand conv and pooling layers to oneDNN when the
 * native build has it, but its check ({@code BaseMKLDNNHelper.mklDnnEnabled()}) looks the native
 * environment up under a class name that moved in that release, fails, caches the failure, and every
 * layer silently falls back to DL4J's own im2col path in Java. That path trained the Fashion-MNIST
 * CNN teacher about 4 to 5 times slower than the oneDNN kernels on the same 2 cores (see
 * {@code ./distill bench}). So we put DL4J's own oneDNN helpers into the layers ourselves, after the
 * network is built or restored; the layers then call them exactly as DL4J intended.
 *
 * <p>Only a native build compiled with oneDNN ({@code nd4j-native} classifier {@code *-onednn*}, the
 * project's default) can run them: in the plain build the same calls reach libnd4j's generic conv2d,
 * which is slower than DL4J's Java path. {@link #DEFAULT} therefore picks oneDNN only where the
 * loaded native library has it. The choice can be forced with the system property
 * {@code distill.conv} or the environment variable {@code DISTILL_CONV} ({@code onednn}, {@code dl4j}
 * or {@code auto}), which is also how the benchmark restores the old path for a before/after figure.
 */
public enum ConvBackend {
    /** oneDNN kernels for standard 2D convolution and max/average pooling. */
    ONEDNN,
    /** DL4J's own Java implementation (im2col + GEMM): DL4J's behaviour out of the box. */
    DL4J;

    /** The backend that {@link NetworkFactory} and model loading apply, chosen once per process. */
    public static final ConvBackend DEFAULT = fromSetting(setting());

    private static volatile Boolean oneDnnBuild;

    /** The configured choice: system property first, then environment, else {@code auto}. */
    static String setting() {
        String property = System.getProperty("distill.conv");
        if (property != null && !property.isBlank()) {
            return property;
        }
        String env = System.getenv("DISTILL_CONV");
        return env != null && !env.isBlank() ? env : "auto";
    }

    /**
     * {@code auto} (oneDNN when the native build has it), {@code onednn} or {@code dl4j}.
     *
     * @throws IllegalArgumentException for any other word, or {@code onednn} without a oneDNN build
     */
    public static ConvBackend fromSetting(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        switch (v) {
            case "auto":
                return oneDnnAvailable() ? ONEDNN : DL4J;
            case "dl4j":
                return DL4J;
            case "onednn":
                if (!oneDnnAvailable()) {
                    throw new IllegalArgumentException("distill.conv=onednn but the loaded nd4j-native build has no"
                            + " oneDNN (use a *-onednn* classifier, or auto / dl4j)");
                }
                return ONEDNN;
            default:
                throw new IllegalArgumentException("distill.conv / DISTILL_CONV: unknown value '" + value
                        + "' (expected auto, onednn or dl4j)");
        }
    }

    /** Whether the loaded libnd4j was compiled with oneDNN (its build information says HAVE_ONEDNN). */
    public static boolean oneDnnAvailable() {
        Boolean known = oneDnnBuild;
        if (known == null) {
            // NativeOpsHolder reads settings the ND4J backend loads first: initialise it before asking
            org.nd4j.linalg.factory.Nd4j.getExecutioner();
            String info = NativeOpsHolder.getInstance().getDeviceNativeOps().buildInfo();
            known = info != null && info.contains("HAVE_ONEDNN");
            oneDnnBuild = known;
        }
        return known;
    }

    /**
     * Puts this backend's helpers into every standard convolution and pooling layer of {@code net}
     * (or takes them out, for {@link #DL4J}). Depthwise, separable and other convolution subclasses
     * are left alone: DL4J's oneDNN helper covers only the standard 2D convolution.
     *
     * @return the number of layers now computed by oneDNN
     */
    public int apply(MultiLayerNetwork net) {
        return apply(net.getLayers());
    }

    /** As {@link #apply(MultiLayerNetwork)}, for either kind of network. */
    public int apply(Network net) {
        return apply(net.layers());
    }

    /** As {@link #apply(MultiLayerNetwork)}, for a graph. */
    public int apply(ComputationGraph graph) {
        return apply(graph.getLayers());
    }

    private int apply(Layer[] layers) {
        if (this == ONEDNN && !oneDnnAvailable()) {
            throw new IllegalStateException("the loaded nd4j-native build has no oneDNN");
        }
        int accelerated = 0;
        for (Layer layer : layers) {
            if (!managed(layer)) {
                continue;
            }
            Object helper = this == DL4J ? null
                    : layer instanceof ConvolutionLayer ? new MKLDNNConvHelper(layer.getParam("W").dataType())
                    // the running mean is a parameter of every batch norm; gamma is not when it is locked
                    : layer instanceof BatchNormalization ? new MKLDNNBatchNormHelper(layer.getParam("mean").dataType())
                    : new MKLDNNSubsamplingHelper(DataType.FLOAT);
            field(layer, "helper").set(layer, helper);
            // a helper that failed before would be skipped; a new one starts with a clean record
            field(layer, "helperCountFail").set(layer, 0);
            accelerated += helper == null ? 0 : 1;
        }
        return accelerated;
    }

    /**
     * Whether this class manages {@code layer}'s helper: standard convolution, pooling and batch
     * normalisation, by exact class, because subclasses (depthwise, separable, deconvolution, 1D) compute
     * differently. Batch normalisation is included because DL4J's own path for it made a small
     * MobileNet-style student train about 3 times slower than without its batch-norm layers.
     */
    private static boolean managed(Layer layer) {
        return layer.getClass() == ConvolutionLayer.class || layer.getClass() == SubsamplingLayer.class
                || layer.getClass() == BatchNormalization.class;
    }

    /** A field DL4J keeps non-public on a {@linkplain #managed managed} layer's own class. */
    private static FieldAccess field(Layer layer, String name) {
        try {
            Field field = layer.getClass().getDeclaredField(name);
            field.setAccessible(true);
            return new FieldAccess(field);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot reach " + layer.getClass().getSimpleName() + "." + name
                    + " in this DL4J version", e);
        }
    }

    /** Reflective reads and writes with the checked exceptions turned into one clear failure. */
    private record FieldAccess(Field field) {

        Object get(Object owner) {
            try {
                return field.get(owner);
            } catch (IllegalAccessException e) {
                throw new IllegalStateException("cannot read " + field, e);
            }
        }

        void set(Object owner, Object value) {
            try {
                field.set(owner, value);
            } catch (IllegalAccessException e) {
                throw new IllegalStateException("cannot write " + field, e);
            }
        }
    }

    /** How many layers of {@code layers} currently run on oneDNN (for the benchmark's report). */
    public static int acceleratedLayers(Layer[] layers) {
        int count = 0;
        for (Layer layer : layers) {
            count += managed(layer) && field(layer, "helper").get(layer) != null ? 1 : 0;
        }
        return count;
    }

    /**
     * How many layers gave up on their helper after an error and went back to DL4J's path (DL4J
     * does that silently, logging at most a warning): 0 when oneDNN did all the work it was given.
     */
    public static int fallbacks(Layer[] layers) {
        int count = 0;
        for (Layer layer : layers) {
            count += managed(layer) && (Integer) field(layer, "helperCountFail").get(layer) > 0 ? 1 : 0;
        }
        return count;
    }
}
