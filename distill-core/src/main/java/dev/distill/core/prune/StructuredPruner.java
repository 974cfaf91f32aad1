package dev.distill.core.prune;

import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.LayerSpec;
import dev.distill.models.spec.ModelSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.IntStream;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Structured pruning: removes whole neurons of dense layers and whole filters of conv layers, those
 * whose incoming weights have the smallest L1 or L2 norm, and builds a physically smaller network:
 * the next layer loses the matching inputs (rows of a dense layer, input channels of a conv layer,
 * the channel's block of a flattened feature map), batch normalisation its channels. The output
 * layer keeps its classes. Returns a new network; the input is not changed.
 *
 * <p>Supports sequential models of dense, conv2d, pooling, global pooling, batch norm and dropout
 * layers; depthwise and separable convolutions tie their outputs to their inputs and are refused.
 */
public final class StructuredPruner {

    public enum Norm { L1, L2 }

    /**
     * The smaller model and which units of each pruned layer survived (indices into the original
     * layer's units or filters, ascending), by layer name.
     */
    public record Result(ModelSpec spec, MultiLayerNetwork net, Map<String, int[]> kept) {
    }

    private StructuredPruner() {
    }

    /** Names of the layers whose units can be removed: dense and conv2d, not the output. */
    public static List<String> layerNames(ModelSpec spec) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < spec.layers().size(); i++) {
            LayerSpec l = spec.layers().get(i);
            if (l instanceof LayerSpec.Dense || l instanceof LayerSpec.Conv2d) {
                names.add(Prunable.layerName(l.type(), i));
            }
        }
        return names;
    }

    /** @throws IllegalArgumentException naming the first layer structured pruning cannot handle */
    public static void check(ModelSpec spec) {
        for (int i = 0; i < spec.layers().size(); i++) {
            LayerSpec l = spec.layers().get(i);
            if (l instanceof LayerSpec.DepthwiseConv2d || l instanceof LayerSpec.SeparableConv2d) {
                throw new IllegalArgumentException("structured pruning cannot remove channels around "
                        + Prunable.layerName(l.type(), i) + " (its outputs are tied to its inputs); use method: magnitude");
            }
            if (l instanceof LayerSpec.Dense d && !d.bias() || l instanceof LayerSpec.Conv2d c && !c.bias()
                    || l instanceof LayerSpec.RectConv2d) {
                throw new IllegalArgumentException("structured pruning does not handle the layers of a low-rank pair ("
                        + Prunable.layerName(l.type(), i) + "); use method: magnitude");
            }
        }
    }

    /**
     * @param fraction fraction of the units of every dense and conv2d layer to remove (rounded down,
     *                 at least one unit kept)
     * @param perLayer fractions for named layers instead
     * @param build    a new network for a spec (its updater and loss are the caller's choice)
     */
    public static Result prune(MultiLayerNetwork net, ModelSpec spec, InputShape input, double fraction,
            Map<String, Double> perLayer, Norm norm, Function<ModelSpec, MultiLayerNetwork> build) {
        check(spec);
        // output shapes of every layer, [1, c, h, w] or [1, f], from one forward pass
        List<INDArray> activations = net.feedForward(Nd4j.zeros(DataType.FLOAT, 1, input.size()), false);
        List<LayerSpec> layers = new ArrayList<>();
        Map<String, INDArray> params = new LinkedHashMap<>();
        Map<String, int[]> kept = new LinkedHashMap<>();
        // kept units or channels of the previous layer's output; null while nothing has been removed
        int[] keep = null;
        long[] previous = activations.get(0).shape();
        for (int i = 0; i < spec.layers().size(); i++) {
            LayerSpec layer = spec.layers().get(i);
            String name = Prunable.layerName(layer.type(), i);
            if (layer instanceof LayerSpec.Dense || layer instanceof LayerSpec.Output) {
                INDArray w = net.getParam(i + "_W");
                if (keep != null) {
                    w = take(w, 0, previous.length == 4 ? flattened(keep, previous) : keep);
                }
                INDArray b = net.getParam(i + "_b");
                if (layer instanceof LayerSpec.Dense d) {
                    int[] units = strongest(w, 1, perLayer.getOrDefault(name, fraction), norm);
                    w = take(w, 1, units);
                    b = take(b, b.rank() - 1, units);
                    layer = new LayerSpec.Dense(units.length, d.activation());
                    kept.put(name, units);
                    keep = units;
                }
                params.put(i + "_W", w);
                params.put(i + "_b", b);
            } else if (layer instanceof LayerSpec.Conv2d c) {
                INDArray w = keep == null ? net.getParam(i + "_W") : take(net.getParam(i + "_W"), 1, keep);
                int[] filters = strongest(w.reshape('c', w.size(0), -1), 0, perLayer.getOrDefault(name, fraction), norm);
                INDArray b = net.getParam(i + "_b");
                params.put(i + "_W", take(w, 0, filters));
                params.put(i + "_b", take(b, b.rank() - 1, filters));
                layer = new LayerSpec.Conv2d(filters.length, c.kernel(), c.stride(), c.padding(), c.activation());
                kept.put(name, filters);
                keep = filters;
            } else if (layer instanceof LayerSpec.BatchNorm && keep != null) {
                for (Map.Entry<String, INDArray> p : net.getLayer(i).paramTable().entrySet()) {
                    params.put(i + "_" + p.getKey(), take(p.getValue(), p.getValue().rank() - 1, keep));
                }
            }
            layers.add(layer);
            previous = activations.get(i + 1).shape();
        }
        ModelSpec smaller = new ModelSpec(layers);
        MultiLayerNetwork pruned = build.apply(smaller);
        params.forEach(pruned::setParam);
        return new Result(smaller, pruned, kept);
    }

    /**
     * Indices (ascending) of the units to keep along {@code axis} of a 2-D weight matrix whose other
     * axis holds each unit's incoming weights: all but the {@code floor(fraction · n)} of smallest norm.
     */
    static int[] strongest(INDArray weights, int axis, double fraction, Norm norm) {
        if (!(fraction >= 0 && fraction < 1)) {
            throw new IllegalArgumentException("fraction must be in [0, 1), got " + fraction);
        }
        int reduce = 1 - axis;
        INDArray norms = norm == Norm.L1 ? weights.norm1(reduce) : weights.norm2(reduce);
        double[] n = norms.castTo(DataType.DOUBLE).toDoubleVector();
        int remove = Math.min(MagnitudePruner.count(fraction, n.length), n.length - 1);
        Integer[] order = IntStream.range(0, n.length).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.<Integer>comparingDouble(j -> n[j]).thenComparingInt(j -> j));
        return Arrays.stream(order).skip(remove).mapToInt(Integer::intValue).sorted().toArray();
    }

    /** Feature indices of whole channels of a {@code [1, c, h, w]} map flattened channels first. */
    static int[] flattened(int[] channels, long[] shape) {
        int block = (int) (shape[2] * shape[3]);
        int[] rows = new int[channels.length * block];
        for (int k = 0; k < channels.length; k++) {
            for (int p = 0; p < block; p++) {
                rows[k * block + p] = channels[k] * block + p;
            }
        }
        return rows;
    }

    /** The slices at {@code indices} along {@code axis}, as a new c-order float array. */
    static INDArray take(INDArray a, int axis, int[] indices) {
        long[] shape = a.shape();
        float[] values = PruningMasks.values(a);
        long outer = 1;
        for (int d = 0; d < axis; d++) {
            outer *= shape[d];
        }
        long inner = 1;
        for (int d = axis + 1; d < shape.length; d++) {
            inner *= shape[d];
        }
        float[] taken = new float[(int) (outer * indices.length * inner)];
        int at = 0;
        for (long o = 0; o < outer; o++) {
            for (int k : indices) {
                int from = (int) ((o * shape[axis] + k) * inner);
                System.arraycopy(values, from, taken, at, (int) inner);
                at += (int) inner;
            }
        }
        long[] newShape = shape.clone();
        newShape[axis] = indices.length;
        return PruningMasks.array(taken, newShape);
    }
}
