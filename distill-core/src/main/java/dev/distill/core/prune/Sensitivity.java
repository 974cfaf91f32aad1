package dev.distill.core.prune;

import dev.distill.core.data.LabeledData;
import dev.distill.core.eval.Accuracy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * Pruning sensitivity: each layer's weights magnitude-pruned alone (the other layers untouched, no
 * fine-tuning) at a range of sparsities, and the accuracy that is left. Layers whose accuracy falls
 * early want a lower sparsity of their own ({@code layers:} in a prune stage).
 */
public final class Sensitivity {

    /** Accuracy with one layer's weights pruned to {@code sparsity}. */
    public record Point(String layer, long weights, double sparsity, double accuracy) {
    }

    private Sensitivity() {
    }

    /** The standard scan: 0.1, 0.2, ..., 0.9. */
    public static double[] tenths() {
        double[] s = new double[9];
        for (int i = 0; i < s.length; i++) {
            s[i] = (i + 1) / 10.0;
        }
        return s;
    }

    /** One point per prunable layer (weights of dense, conv and output layers) and sparsity; {@code net} is not changed. */
    public static List<Point> scan(MultiLayerNetwork net, LabeledData data, double[] sparsities) {
        Map<String, List<Prunable>> byLayer = new LinkedHashMap<>();
        for (Prunable t : Prunable.of(net, false, true)) {
            byLayer.computeIfAbsent(t.layerName(), k -> new ArrayList<>()).add(t);
        }
        List<Point> points = new ArrayList<>();
        for (Map.Entry<String, List<Prunable>> layer : byLayer.entrySet()) {
            long weights = layer.getValue().stream().mapToLong(t -> net.getParam(t.key()).length()).sum();
            for (double s : sparsities) {
                MultiLayerNetwork copy = net.clone();
                MagnitudePruner.masks(copy, layer.getValue(), MagnitudePruner.Scope.LAYER, s).applyTo(copy);
                points.add(new Point(layer.getKey(), weights, s, Accuracy.of(copy, data)));
            }
        }
        return points;
    }
}
