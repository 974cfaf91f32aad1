package dev.distill.core.quant;

import dev.distill.runtime.QuantizedTensor;
import dev.distill.core.train.TrainingListener;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Centroid fine-tuning of k-means weight sharing (Deep Compression, section 3.1): the assignment of
 * weights to clusters is fixed, and after every optimizer step each centroid moves by the sum of the
 * steps its member weights took, then every member is set to its centroid again. With plain SGD a
 * member's step is {@code −lr × its gradient}, so a centroid moves by {@code −lr × the sum of its
 * members' gradients}: the grouped gradient. Positions not stored (pruned zeros) are set back to zero.
 */
public final class CentroidTuner implements TrainingListener {

    private final MultiLayerNetwork net;
    private final List<QuantizedTensor> tensors;
    private final List<double[]> centroids = new ArrayList<>();

    /** Sets every tuned tensor of {@code net} to its codebook at once. */
    public CentroidTuner(MultiLayerNetwork net, List<QuantizedTensor> kmeansTensors) {
        this.net = net;
        this.tensors = List.copyOf(kmeansTensors);
        for (QuantizedTensor t : tensors) {
            if (t.kind() != QuantizedTensor.Kind.KMEANS) {
                throw new IllegalArgumentException(t.key() + " is not a k-means tensor");
            }
            double[] c = new double[t.codebook().length];
            for (int j = 0; j < c.length; j++) {
                c[j] = t.codebook()[j];
            }
            centroids.add(c);
            project(t, c);
        }
    }

    @Override
    public void batchDone(long examplesDone, double batchLoss) {
        for (int j = 0; j < tensors.size(); j++) {
            QuantizedTensor t = tensors.get(j);
            float[] w = PackedModelFile.values(net.getParam(t.key()));
            groupedUpdate(centroids.get(j), t.codes(), member -> w[t.position(member)]);
            project(t, centroids.get(j));
        }
    }

    /** The weight a member (stored value k) has now. */
    @FunctionalInterface
    interface Member {
        double weight(int k);
    }

    /**
     * Moves each centroid by the sum of its members' displacements from it: {@code c += Σ (w − c)} over
     * the members (each member was at {@code c} before the step).
     */
    static void groupedUpdate(double[] centroids, int[] codes, Member members) {
        double[] delta = new double[centroids.length];
        for (int k = 0; k < codes.length; k++) {
            delta[codes[k]] += members.weight(k) - centroids[codes[k]];
        }
        for (int c = 0; c < centroids.length; c++) {
            centroids[c] += delta[c];
        }
    }

    private void project(QuantizedTensor t, double[] c) {
        float[] v = new float[t.size()];
        for (int k = 0; k < t.stored(); k++) {
            v[t.position(k)] = (float) c[t.codes()[k]];
        }
        INDArray param = net.getParam(t.key());
        param.assign(Nd4j.create(v, t.shape(), 'c'));
    }

    /**
     * The tensors with the codebooks read back from {@code trained} (after the trainer restored its best
     * epoch, whose weights are all at centroids): each centroid is its first member's weight.
     */
    public static List<QuantizedTensor> codebooksOf(MultiLayerNetwork trained, List<QuantizedTensor> tensors) {
        List<QuantizedTensor> out = new ArrayList<>();
        for (QuantizedTensor t : tensors) {
            float[] w = PackedModelFile.values(trained.getParam(t.key()));
            float[] codebook = t.codebook().clone();
            boolean[] seen = new boolean[codebook.length];
            for (int k = 0; k < t.stored(); k++) {
                int c = t.codes()[k];
                if (!seen[c]) {
                    codebook[c] = w[t.position(k)];
                    seen[c] = true;
                }
            }
            out.add(t.withCodebook(codebook));
        }
        return out;
    }
}
