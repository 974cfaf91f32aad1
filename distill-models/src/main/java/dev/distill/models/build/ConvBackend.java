package dev.distill.models.build;

import java.lang.reflect.Field;
import java.util.Locale;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNSubsamplingHelper;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.nativeblas.NativeOpsHolder;

/**
 * Which code computes convolution and pooling layers.
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
            // exact classes: subclasses (depthwise, separable, deconvolution, 1D) compute differently
            if (layer.getClass() == ConvolutionLayer.class) {
                accelerated += install(layer, ConvolutionLayer.class,
                        this == ONEDNN ? new MKLDNNConvHelper(layer.getParam("W").dataType()) : null);
            } else if (layer.getClass() == SubsamplingLayer.class) {
                accelerated += install(layer, SubsamplingLayer.class,
                        this == ONEDNN ? new MKLDNNSubsamplingHelper(DataType.FLOAT) : null);
            }
        }
        return accelerated;
    }

    private static int install(Layer layer, Class<?> type, Object helper) {
        try {
            Field field = type.getDeclaredField("helper");
            field.setAccessible(true);
            field.set(layer, helper);
            // a helper that failed before would be skipped; a new one starts with a clean record
            Field failures = type.getDeclaredField("helperCountFail");
            failures.setAccessible(true);
            failures.setInt(layer, 0);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot set the " + type.getSimpleName() + " helper of this DL4J version", e);
        }
        return helper == null ? 0 : 1;
    }

    /** How many layers of {@code layers} currently run on oneDNN (for the benchmark's report). */
    public static int acceleratedLayers(Layer[] layers) {
        int count = 0;
        for (Layer layer : layers) {
            Object helper = null;
            if (layer.getClass() == ConvolutionLayer.class) {
                helper = ((ConvolutionLayer) layer).getHelper();
            } else if (layer.getClass() == SubsamplingLayer.class) {
                helper = ((SubsamplingLayer) layer).getHelper();
            }
            count += helper != null ? 1 : 0;
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
            Class<?> type = layer.getClass() == ConvolutionLayer.class ? ConvolutionLayer.class
                    : layer.getClass() == SubsamplingLayer.class ? SubsamplingLayer.class : null;
            if (type == null) {
                continue;
            }
            try {
                Field failures = type.getDeclaredField("helperCountFail");
                failures.setAccessible(true);
                count += failures.getInt(layer) > 0 ? 1 : 0;
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot read the helper state of this DL4J version", e);
            }
        }
        return count;
    }
}
