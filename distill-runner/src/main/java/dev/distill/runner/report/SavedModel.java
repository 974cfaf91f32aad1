package dev.distill.runner.report;

import dev.distill.core.DistillException;
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

    /** One DL4J layer's stored parameters: how many, how many non-zero, bits per value. */
    public record LayerParams(long params, long nonzero, int bits) {

        public double sparsity() {
            return params == 0 ? 0 : 1.0 - (double) nonzero / params;
        }
    }

    public static SavedModel read(Path file) {
        dev.distill.core.io.ModelFileCheck.regularFile(file);
        if (dev.distill.core.quant.PackedModelFile.isPackedFile(file)) {
            return ofPacked(dev.distill.core.quant.PackedModelFile.read(file));
        }
        dev.distill.models.build.Network net;
        try {
            net = dev.distill.core.io.ModelFiles.load(file, dev.distill.core.prune.SparseModelFile::load);
        } catch (DistillException e) {
            throw e;
        } catch (Exception e) {
            throw new DistillException(file + ": cannot read the model file (" + e.getClass().getSimpleName() + ")", e);
        }
        return of(net);
    }

    /** A packed file: each layer's bit width is that of its weights as stored (its biases stay float32). */
    static SavedModel ofPacked(dev.distill.core.quant.PackedModelFile.Packed packed) {
        SavedModel dense = of(packed.net());
        List<LayerParams> layers = new ArrayList<>(dense.layers());
        for (dev.distill.core.quant.QuantizedTensor t : packed.tensors()) {
            if (t.kind() != dev.distill.core.quant.QuantizedTensor.Kind.FLOAT) {
                int layer = Integer.parseInt(t.key().substring(0, t.key().indexOf('_')));
                LayerParams l = layers.get(layer);
                layers.set(layer, new LayerParams(l.params(), l.nonzero(), Math.min(l.bits(), t.bits())));
            }
        }
        return new SavedModel(dense.params(), dense.nonzero(), layers);
    }

    public static SavedModel of(MultiLayerNetwork net) {
        return of(dev.distill.models.build.Network.of(net));
    }

    /** As {@link #of(MultiLayerNetwork)}, for either kind of network (a graph's layers in topological order). */
    public static SavedModel of(dev.distill.models.build.Network net) {
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
