package dev.distill.runner.report;

import dev.distill.core.DistillException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What a shipped model file actually stores, counted from its parameters rather than from the
 * architecture: non-zero parameters and the bit width of each layer. Until pruning and quantization
 * exist every layer is dense 32-bit float, but counting the file (not assuming) keeps the report honest
 * when they arrive.
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
        if (!Files.isRegularFile(file)) {
            throw new DistillException(file + ": model file not found");
        }
        dev.distill.models.build.Network net;
        try {
            net = dev.distill.core.io.ModelFiles.load(file, dev.distill.core.prune.SparseModelFile::load);
        } catch (Exception e) {
            throw new DistillException(file + ": not a readable DL4J model file (" + e.getClass().getSimpleName() + ")", e);
        }
        return of(net);
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
