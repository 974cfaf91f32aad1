package dev.distill.core.prune;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Which weights are kept (1) and which are pruned (0), per prunable tensor, keyed by DL4J parameter
 * key ({@code "0_W"}). Immutable: the arrays are private copies.
 *
 * <p>DL4J has no notion of a pruned weight: a zero weight still gets a gradient, and Adam's moment
 * estimates move it again at the next step (after one epoch almost all of them are back). The masks
 * are therefore re-applied after every optimizer step while training ({@link MaskKeeper}). They do
 * not live in a saved model: {@link #fromZeros} rebuilds them from the weights that are zero.
 */
public final class PruningMasks {

    private final Map<String, INDArray> masks;
    private final Map<String, Prunable> tensors;

    PruningMasks(Map<Prunable, INDArray> masks) {
        this.masks = new LinkedHashMap<>();
        this.tensors = new LinkedHashMap<>();
        for (Map.Entry<Prunable, INDArray> e : masks.entrySet()) {
            this.masks.put(e.getKey().key(), e.getValue().castTo(DataType.FLOAT).dup('c'));
            this.tensors.put(e.getKey().key(), e.getKey());
        }
    }

    /** Masks that keep exactly the non-zero weights of the given tensors. */
    public static PruningMasks fromZeros(MultiLayerNetwork net, List<Prunable> tensors) {
        Map<Prunable, INDArray> masks = new LinkedHashMap<>();
        for (Prunable t : tensors) {
            masks.put(t, net.getParam(t.key()).neq(0).castTo(DataType.FLOAT));
        }
        return new PruningMasks(masks);
    }

    /** Multiplies the network's parameters by the masks, in place: pruned weights become exactly 0. */
    public void applyTo(MultiLayerNetwork net) {
        for (Map.Entry<String, INDArray> e : masks.entrySet()) {
            // + 0 turns the -0.0 of a negative weight times 0 into +0.0
            net.getParam(e.getKey()).muli(e.getValue()).addi(0f);
        }
    }

    /** The tensors these masks cover. */
    public List<Prunable> tensors() {
        return List.copyOf(tensors.values());
    }

    /** The mask of one tensor (a copy), or null if it is not covered. */
    public INDArray mask(String key) {
        INDArray m = masks.get(key);
        return m == null ? null : m.dup();
    }

    public long total() {
        return masks.values().stream().mapToLong(INDArray::length).sum();
    }

    public long pruned() {
        return masks.values().stream().mapToLong(m -> m.length() - m.sumNumber().longValue()).sum();
    }

    /** Fraction of the covered weights that are pruned, in [0, 1]. */
    public double sparsity() {
        long total = total();
        return total == 0 ? 0 : (double) pruned() / total;
    }

    /** Sparsity per layer name, over that layer's covered tensors, in layer order. */
    public Map<String, Double> layerSparsity() {
        Map<String, long[]> counts = new LinkedHashMap<>();
        for (Map.Entry<String, INDArray> e : masks.entrySet()) {
            long[] c = counts.computeIfAbsent(tensors.get(e.getKey()).layerName(), k -> new long[2]);
            c[0] += e.getValue().length() - e.getValue().sumNumber().longValue();
            c[1] += e.getValue().length();
        }
        Map<String, Double> sparsity = new LinkedHashMap<>();
        counts.forEach((name, c) -> sparsity.put(name, c[1] == 0 ? 0 : (double) c[0] / c[1]));
        return Collections.unmodifiableMap(sparsity);
    }

    /** A weight pruned by either mask stays pruned: pruning only ever removes weights. */
    PruningMasks and(PruningMasks other) {
        Map<Prunable, INDArray> combined = new LinkedHashMap<>();
        for (Map.Entry<String, INDArray> e : masks.entrySet()) {
            INDArray o = other.masks.get(e.getKey());
            combined.put(tensors.get(e.getKey()), o == null ? e.getValue() : e.getValue().mul(o));
        }
        return new PruningMasks(combined);
    }

    /** Float values of an array in c (row-major) order, whatever its own order. */
    static float[] values(INDArray a) {
        return a.castTo(DataType.FLOAT).dup('c').data().asFloat();
    }

    /** An array of the given shape from c-order values. */
    static INDArray array(float[] values, long[] shape) {
        return Nd4j.create(values, shape, 'c');
    }
}
