package dev.distill.core.prune;

import dev.distill.models.spec.LayerSpec;
import dev.distill.models.spec.ModelSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * One prunable parameter tensor of a network: the layer's index and its name in configs
 * ({@code <type>_<index>}, e.g. {@code dense_0}, {@code output_1}: the type and position in the
 * model's {@code layers:} list), and the DL4J parameter ({@code W}, {@code pW}, {@code b}).
 */
public record Prunable(int layer, String layerName, String param) {

    /** Layer types whose weights can be pruned (batch norm's scale and statistics cannot). */
    private static final Set<String> WEIGHTED = Set.of("dense", "conv2d", "depthwise_conv2d", "separable_conv2d",
            "output");

    /** The key of this tensor in DL4J's {@code paramTable()}: {@code "0_W"}. */
    public String key() {
        return layer + "_" + param;
    }

    public boolean bias() {
        return param.equals("b");
    }

    /** A layer's name in configs and reports. */
    public static String layerName(String type, int index) {
        return type + "_" + index;
    }

    /** Names of the layers of {@code spec} whose weights can be pruned, in order. */
    public static List<String> layerNames(ModelSpec spec, boolean includeOutput) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < spec.layers().size(); i++) {
            LayerSpec layer = spec.layers().get(i);
            if (WEIGHTED.contains(layer.type()) && (includeOutput || !(layer instanceof LayerSpec.Output))) {
                names.add(layerName(layer.type(), i));
            }
        }
        return names;
    }

    /**
     * The prunable tensors of a network: the weights of its dense, conv and output layers, with
     * their biases if {@code includeBiases}, the output layer's only if {@code includeOutput}.
     */
    public static List<Prunable> of(MultiLayerNetwork net, boolean includeBiases, boolean includeOutput) {
        List<Prunable> tensors = new ArrayList<>();
        for (int i = 0; i < net.getnLayers(); i++) {
            String type = type(net.getLayer(i).conf().getLayer());
            if (type == null || (!includeOutput && type.equals("output"))) {
                continue;
            }
            for (String param : net.getLayer(i).paramTable().keySet()) {
                if (includeBiases || !param.equals("b")) {
                    tensors.add(new Prunable(i, layerName(type, i), param));
                }
            }
        }
        return tensors;
    }

    /** The config type name of a DL4J layer with prunable weights, or null. */
    public static String type(Layer layer) {
        if (layer instanceof OutputLayer) {
            return "output";
        }
        if (layer instanceof DenseLayer) {
            return "dense";
        }
        if (layer instanceof SeparableConvolution2D) {
            return "separable_conv2d";
        }
        if (layer instanceof DepthwiseConvolution2D) {
            return "depthwise_conv2d";
        }
        if (layer instanceof ConvolutionLayer c && c.getClass() == ConvolutionLayer.class) {
            return "conv2d";
        }
        return null;
    }
}
