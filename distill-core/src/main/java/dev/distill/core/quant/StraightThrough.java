package dev.distill.core.quant;

import dev.distill.runtime.QuantizedTensor;
import dev.distill.core.train.TrainingListener;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Straight-through fine-tuning (Bengio et al. 2013; as in BinaryConnect and quantization-aware
 * training): float "shadow" weights are kept beside the network, whose weights are always their
 * quantization, so the forward pass sees quantized weights; the gradient computed there is applied
 * to the shadow weights as if quantization were the identity. After each optimizer step, the step the
 * network's weights took is added to the shadow weights, and the network's weights become the new
 * shadow weights' quantization. Positions not stored (pruned zeros) stay zero.
 */
public final class StraightThrough implements TrainingListener {

    private final MultiLayerNetwork net;
    private final List<QuantizedTensor> tensors;
    private final Function<QuantizedTensor, Function<float[], QuantizedTensor>> quantizers;
    private final List<float[]> shadow = new ArrayList<>();
    private final List<float[]> quantized = new ArrayList<>();

    /**
     * @param tensors    the post-training quantization of each tuned tensor (fixes its positions)
     * @param quantizers for a tensor, the function that quantizes new float values the same way
     */
    public StraightThrough(MultiLayerNetwork net, List<QuantizedTensor> tensors,
            Function<QuantizedTensor, Function<float[], QuantizedTensor>> quantizers) {
        this.net = net;
        this.tensors = List.copyOf(tensors);
        this.quantizers = quantizers;
        for (QuantizedTensor t : this.tensors) {
            shadow.add(PackedModelFile.values(net.getParam(t.key())));
            float[] q = t.dequantize();
            quantized.add(q);
            net.setParam(t.key(), Nd4j.create(q, t.shape(), 'c'));
        }
    }

    @Override
    public void batchDone(long examplesDone, double batchLoss) {
        for (int j = 0; j < tensors.size(); j++) {
            QuantizedTensor t = tensors.get(j);
            float[] w = PackedModelFile.values(net.getParam(t.key()));
            float[] s = shadow.get(j);
            float[] q = quantized.get(j);
            for (int i = 0; i < s.length; i++) {
                s[i] += w[i] - q[i];
            }
            if (t.positions() != null) {
                float[] masked = new float[s.length];
                for (int k = 0; k < t.stored(); k++) {
                    masked[t.position(k)] = s[t.position(k)];
                }
                System.arraycopy(masked, 0, s, 0, s.length);
            }
            float[] next = quantizers.apply(t).apply(s).dequantize();
            quantized.set(j, next);
            net.setParam(t.key(), Nd4j.create(next, t.shape(), 'c'));
        }
    }
}
