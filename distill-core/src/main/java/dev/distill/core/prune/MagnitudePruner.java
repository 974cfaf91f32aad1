package dev.distill.core.prune;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * Unstructured magnitude pruning: the weights of smallest absolute value are pruned, either per
 * layer (each tensor loses its own fraction) or with one threshold over all tensors (global: layers
 * with many small weights lose more). Computes masks; never changes the network.
 *
 * <p>Exactly {@code floor(sparsity · n)} weights are pruned: ties at the threshold are broken by
 * position. Weights that are already zero have the smallest magnitude, so a mask for a higher
 * sparsity contains every earlier pruning.
 */
public final class MagnitudePruner {

    /** One threshold per tensor, or one for all of them. */
    public enum Scope { LAYER, GLOBAL }

    private MagnitudePruner() {
    }

    /**
     * @param sparsity  fraction of the tensors' weights to prune, in [0, 1)
     * @param perLayer  sparsity for named layers (pruned on their own, at that fraction); the others
     *                  share {@code sparsity} with the scope's rule
     */
    public static PruningMasks masks(MultiLayerNetwork net, List<Prunable> tensors, Scope scope, double sparsity,
            Map<String, Double> perLayer) {
        checkSparsity(sparsity);
        perLayer.values().forEach(MagnitudePruner::checkSparsity);
        Map<Prunable, float[]> magnitudes = new LinkedHashMap<>();
        for (Prunable t : tensors) {
            float[] v = PruningMasks.values(net.getParam(t.key()));
            for (int i = 0; i < v.length; i++) {
                v[i] = Math.abs(v[i]);
            }
            magnitudes.put(t, v);
        }
        Map<Prunable, float[]> keep = new LinkedHashMap<>();
        List<Prunable> shared = tensors.stream().filter(t -> !perLayer.containsKey(t.layerName())).toList();
        if (scope == Scope.GLOBAL && !shared.isEmpty()) {
            int total = shared.stream().mapToInt(t -> magnitudes.get(t).length).sum();
            float[] all = new float[total];
            int offset = 0;
            for (Prunable t : shared) {
                float[] m = magnitudes.get(t);
                System.arraycopy(m, 0, all, offset, m.length);
                offset += m.length;
            }
            float[] kept = keepMask(all, count(sparsity, total));
            offset = 0;
            for (Prunable t : shared) {
                int n = magnitudes.get(t).length;
                keep.put(t, Arrays.copyOfRange(kept, offset, offset + n));
                offset += n;
            }
        }
        Map<Prunable, org.nd4j.linalg.api.ndarray.INDArray> masks = new LinkedHashMap<>();
        for (Prunable t : tensors) {
            float[] m = magnitudes.get(t);
            float[] kept = keep.get(t);
            if (kept == null) {
                kept = keepMask(m, count(perLayer.getOrDefault(t.layerName(), sparsity), m.length));
            }
            masks.put(t, PruningMasks.array(kept, net.getParam(t.key()).shape()));
        }
        return new PruningMasks(masks);
    }

    /** The same sparsity for every tensor, by the scope's rule. */
    public static PruningMasks masks(MultiLayerNetwork net, List<Prunable> tensors, Scope scope, double sparsity) {
        return masks(net, tensors, scope, sparsity, Map.of());
    }

    static int count(double sparsity, int n) {
        return (int) Math.floor(sparsity * n + 1e-9);
    }

    private static void checkSparsity(double sparsity) {
        if (!(sparsity >= 0 && sparsity < 1)) {
            throw new IllegalArgumentException("sparsity must be in [0, 1), got " + sparsity);
        }
    }

    /** 1 for kept, 0 for the {@code k} smallest magnitudes (ties broken by position). */
    static float[] keepMask(float[] magnitudes, int k) {
        float[] keep = new float[magnitudes.length];
        Arrays.fill(keep, 1f);
        if (k <= 0) {
            return keep;
        }
        float[] sorted = magnitudes.clone();
        Arrays.sort(sorted);
        float threshold = sorted[k - 1];
        int below = 0;
        for (float m : magnitudes) {
            if (m < threshold) {
                below++;
            }
        }
        int tiesToPrune = k - below;
        for (int i = 0; i < magnitudes.length; i++) {
            if (magnitudes[i] < threshold) {
                keep[i] = 0f;
            } else if (magnitudes[i] == threshold && tiesToPrune > 0) {
                keep[i] = 0f;
                tiesToPrune--;
            }
        }
        return keep;
    }
}
