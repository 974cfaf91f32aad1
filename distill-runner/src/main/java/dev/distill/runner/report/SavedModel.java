package dev.distill.runner.report;

import dev.distill.core.modelfile.ModelFile;

import dev.distill.core.modelfile.ModelReader;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What a shipped model file actually stores, counted from its parameters rather than from the
 * architecture: non-zero parameters and the bit width of each layer (32 for float files; a packed file's
 * weights as stored).
 */
public record SavedModel(long params, long nonzero, List<LayerParams> layers) {

    public SavedModel {
        layers = List.copyOf(layers);
    }

    /**
     * One DL4J layer's stored parameters: how many, how many non-zero, bits per value and what those
     * bits are ({@code kind}: a packed file's weights as stored, FLOAT for everything else).
     */
    public record LayerParams(long params, long nonzero, int bits, dev.distill.runtime.QuantizedTensor.Kind kind) {

        public LayerParams(long params, long nonzero, int bits) {
            this(params, nonzero, bits, dev.distill.runtime.QuantizedTensor.Kind.FLOAT);
        }

        public double sparsity() {
            return params == 0 ? 0 : 1.0 - (double) nonzero / params;
        }

        /** "32-bit float", "8-bit int" (linear codes), "4-bit k-means" (indices into shared values), "1-bit binary". */
        public String width() {
            return bits + "-bit " + switch (kind) {
                case FLOAT -> "float";
                case LINEAR -> "int";
                case KMEANS -> "k-means";
                case BINARY -> "binary";
            };
        }
    }

    private static final int FLOAT = dev.distill.runtime.QuantizedTensor.Kind.FLOAT.ordinal();

    public static SavedModel read(Path file) {
        ModelFile read = ModelReader.read(file);
        if (read instanceof ModelFile.Dl4j d) {
            return of(d.network());
        }
        if (read instanceof ModelFile.Packed p) {
            return ofPacked(p.model());
        }
        // an ONNX teacher: its initializers are its parameters; no DL4J layers to list
        dev.distill.onnx.OnnxWeights w = dev.distill.onnx.OnnxWeights.of(((ModelFile.Onnx) read).bytes());
        return new SavedModel(w.params(), w.nonzero(), List.of());
    }

    /**
     * A packed file, as distill-runtime holds it: parameters per DL4J layer (from the tensors' keys, "3_W"),
     * each layer's bit width that of its weights as stored (biases stay float32). A batch norm folded into
     * the layer before it counts there.
     */
    public static SavedModel ofPacked(dev.distill.runtime.Model packed) {
        java.util.TreeMap<Integer, long[]> byLayer = new java.util.TreeMap<>();
        java.util.Map<String, Integer> names = new java.util.LinkedHashMap<>();
        for (dev.distill.runtime.Op op : packed.description().ops()) {
            for (dev.distill.runtime.QuantizedTensor t : new dev.distill.runtime.QuantizedTensor[] {op.weights(), op.bias()}) {
                if (t == null) {
                    continue;
                }
                // "3_W" in a sequential model; a graph's keys are "<vertex>_W": its layers in op order
                String prefix = t.key().substring(0, Math.max(0, t.key().lastIndexOf('_')));
                Integer layer = prefix.matches("[0-9]{1,6}") ? Integer.valueOf(prefix)
                        : names.computeIfAbsent(prefix, k -> names.size());
                long[] l = byLayer.computeIfAbsent(layer, k -> new long[] {0, 0, 32, FLOAT});
                float[] v = t.dequantize();
                l[0] += v.length;
                for (float f : v) {
                    l[1] += f != 0 ? 1 : 0;
                }
                if (t.kind() != dev.distill.runtime.QuantizedTensor.Kind.FLOAT && t.bits() <= l[2]) {
                    l[2] = t.bits();
                    l[3] = t.kind().ordinal();
                }
            }
        }
        List<LayerParams> layers = new ArrayList<>();
        long params = 0;
        long nonzero = 0;
        int count = byLayer.isEmpty() ? 0 : byLayer.lastKey() + 1;
        for (int i = 0; i < count; i++) {
            long[] l = byLayer.getOrDefault(i, new long[] {0, 0, 32, FLOAT});
            layers.add(new LayerParams(l[0], l[1], (int) l[2],
                    dev.distill.runtime.QuantizedTensor.Kind.values()[(int) l[3]]));
            params += l[0];
            nonzero += l[1];
        }
        return new SavedModel(params, nonzero, layers);
    }

    public static SavedModel of(MultiLayerNetwork net) {
        return of(dev.distill.models.network.Network.of(net));
    }

    /** As {@link #of(MultiLayerNetwork)}, for either kind of network (a graph's layers in topological order). */
    public static SavedModel of(dev.distill.models.network.Network net) {
        List<LayerParams> layers = new ArrayList<>();
        long params = 0;
        long nonzero = 0;
        for (Layer layer : net.layers()) {
            INDArray p = layer.params();
            long n = p == null ? 0 : p.length();
            long nz = n == 0 ? 0 : p.neq(0).castTo(org.nd4j.linalg.api.buffer.DataType.LONG).sumNumber().longValue();
            int bits = p == null ? 32 : p.dataType().width() * 8;
            layers.add(new LayerParams(n, nz, bits));
            params += n;
            nonzero += nz;
        }
        return new SavedModel(params, nonzero, layers);
    }
}
