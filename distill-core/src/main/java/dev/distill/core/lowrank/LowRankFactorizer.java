package dev.distill.core.lowrank;

import dev.distill.core.prune.Prunable;
import dev.distill.models.spec.Activation;
import dev.distill.models.spec.LayerSpec;
import dev.distill.models.spec.ModelSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Replaces one layer of a sequential model by two smaller ones from the truncated SVD of its weights,
 * and builds the new network with every other parameter carried over. Returns a new network and
 * spec; the input is not changed.
 *
 * <ul>
 *   <li>dense, {@code W} (m inputs × n units): {@code dense(r, identity, no bias)} with weights
 *       {@code U_r·S_r}, then {@code dense(n)} with {@code V_rᵀ}, the original bias and activation;</li>
 *   <li>conv2d (n filters of k×k over c channels), its kernel seen as the matrix n × (c·k·k) (one
 *       filter a row): {@code conv2d(r filters, k×k, no bias)} with the rows of {@code V_rᵀ} as
 *       filters and the layer's stride and padding, then a 1×1 {@code conv2d(n)} with {@code U_r·S_r},
 *       the original bias and activation ({@code conv: filters});</li>
 *   <li>conv2d, spatially ({@code conv: spatial}), the kernel seen as the matrix (c·k) × (n·k), entry
 *       {@code [(channel, row), (filter, column)]}: a k×1 conv with r filters (columns of
 *       {@code U_r·S_r}) and the layer's vertical stride, then a 1×k conv to n filters (rows of
 *       {@code V_rᵀ}) with the horizontal stride, the original bias and activation (Jaderberg, Vedaldi
 *       &amp; Zisserman 2014, "Speeding up convolutional neural networks with low rank expansions",
 *       scheme 2). Zero padding commutes with the split, so at full rank both compute the layer exactly.</li>
 * </ul>
 * Cost of a factorized layer: {@code r·(m + n)} weights instead of {@code m·n}, the bias unchanged.
 */
public final class LowRankFactorizer {

    /** A layer's weights as the matrix the SVD factorizes, and what the layer has besides. */
    public record LayerMatrix(double[][] values, int rows, int columns, int bias) {

        /** Weights and bias now. */
        public long params() {
            return (long) rows * columns + bias;
        }

        /** Weights and bias once factorized at {@code rank}. */
        public long params(int rank) {
            return (long) rank * (rows + columns) + bias;
        }

        /**
         * The largest rank (at least 1, at most {@code min(m, n)}) whose factorized layer has at most
         * {@code ratio} of this layer's parameters, bias included.
         */
        public int rankForParams(double ratio) {
            if (!(ratio > 0 && ratio <= 1)) {
                throw new IllegalArgumentException("param_ratio must be in (0, 1], got " + ratio);
            }
            long rank = (long) Math.floor((ratio * params() - bias) / (rows + columns) + 1e-9);
            return (int) Math.max(1, Math.min(rank, Math.min(rows, columns)));
        }
    }

    /** A factorized model: the new spec and network, and which rank replaced which layer. */
    public record Result(ModelSpec spec, MultiLayerNetwork net, int rank) {
    }

    private LowRankFactorizer() {
    }

    /** Names ({@code dense_0}, {@code conv2d_2}) of the layers that can be factorized: dense and conv2d. */
    public static List<String> layerNames(ModelSpec spec) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < spec.layers().size(); i++) {
            if (factorizable(spec.layers().get(i))) {
                names.add(Prunable.layerName(spec.layers().get(i).type(), i));
            }
        }
        return names;
    }

    /** The weight matrix of layer {@code index}: dense {@code W} as it is, a conv kernel as {@code conv} splits it. */
    public static LayerMatrix matrix(MultiLayerNetwork net, ModelSpec spec, int index, LowRankSettings.Conv conv) {
        LayerSpec layer = spec.layers().get(index);
        if (!factorizable(layer)) {
            throw new IllegalArgumentException(Prunable.layerName(layer.type(), index)
                    + " cannot be factorized: only dense and conv2d layers with a bias can");
        }
        INDArray w = net.getParam(index + "_W");
        if (layer instanceof LayerSpec.Dense d) {
            return new LayerMatrix(w.castTo(DataType.DOUBLE).toDoubleMatrix(), (int) w.size(0), (int) w.size(1),
                    d.units());
        }
        int filters = (int) w.size(0);
        if (conv == LowRankSettings.Conv.SPATIAL) {
            // [n, c, k, k] -> [c, row, n, column] -> (c·k) × (n·k)
            int rows = (int) (w.size(1) * w.size(2));
            int columns = (int) (filters * w.size(3));
            INDArray m = w.permute(1, 2, 0, 3).dup('c').reshape('c', rows, columns).castTo(DataType.DOUBLE);
            return new LayerMatrix(m.toDoubleMatrix(), rows, columns, filters);
        }
        int fanIn = (int) (w.length() / filters);
        INDArray rows = w.dup('c').reshape('c', filters, fanIn).castTo(DataType.DOUBLE);
        return new LayerMatrix(rows.toDoubleMatrix(), filters, fanIn, filters);
    }

    /**
     * Layer {@code index} replaced by its rank-{@code rank} factors.
     *
     * @param svd   the decomposition of {@link #matrix} of the same layer and {@code conv}
     * @param build a new network for a spec (its updater and loss are the caller's choice)
     */
    public static Result factorize(MultiLayerNetwork net, ModelSpec spec, int index, LowRankSettings.Conv conv,
            TruncatedSvd svd, int rank, Function<ModelSpec, MultiLayerNetwork> build) {
        LayerSpec layer = spec.layers().get(index);
        List<LayerSpec> layers = new ArrayList<>(spec.layers());
        INDArray first;
        INDArray second;
        if (layer instanceof LayerSpec.Dense d) {
            layers.set(index, new LayerSpec.Dense(rank, Activation.IDENTITY, false));
            layers.add(index + 1, new LayerSpec.Dense(d.units(), d.activation()));
            first = array(svd.left(rank));
            second = array(svd.right(rank));
        } else if (conv == LowRankSettings.Conv.SPATIAL) {
            LayerSpec.Conv2d c = (LayerSpec.Conv2d) layer;
            int k = c.kernel();
            layers.set(index, new LayerSpec.RectConv2d(rank, k, 1, c.stride(), 1, c.padding(), Activation.IDENTITY,
                    false));
            layers.add(index + 1, new LayerSpec.RectConv2d(c.filters(), 1, k, 1, c.stride(), c.padding(),
                    c.activation(), true));
            long channels = net.getParam(index + "_W").size(1);
            // vertical filter t over (channel, row): column t of U_r·S_r
            first = array(svd.left(rank)).transpose().dup('c').reshape('c', rank, channels, k, 1);
            // horizontal filter of output n over (t, column): row t of V_rᵀ at n's columns
            second = array(svd.right(rank)).reshape('c', rank, c.filters(), k).permute(1, 0, 2).dup('c')
                    .reshape('c', c.filters(), rank, 1, k);
        } else {
            LayerSpec.Conv2d c = (LayerSpec.Conv2d) layer;
            layers.set(index, new LayerSpec.Conv2d(rank, c.kernel(), c.stride(), c.padding(), Activation.IDENTITY,
                    false));
            layers.add(index + 1, new LayerSpec.Conv2d(c.filters(), 1, 1, LayerSpec.Padding.SAME, c.activation()));
            long[] kernel = net.getParam(index + "_W").shape();
            first = array(svd.right(rank)).reshape('c', rank, kernel[1], kernel[2], kernel[3]);
            second = array(svd.left(rank)).reshape('c', kernel[0], rank, 1, 1);
        }
        ModelSpec factorized = new ModelSpec(layers);
        MultiLayerNetwork out = build.apply(factorized);
        for (int j = 0; j < spec.layers().size(); j++) {
            // layers after the factorized one move down by one
            int to = j <= index ? j : j + 1;
            for (Map.Entry<String, INDArray> p : net.getLayer(j).paramTable().entrySet()) {
                if (j != index) {
                    out.setParam(to + "_" + p.getKey(), p.getValue().dup());
                }
            }
        }
        out.setParam(index + "_W", first);
        out.setParam((index + 1) + "_W", second);
        out.setParam((index + 1) + "_b", net.getParam(index + "_b").dup());
        return new Result(factorized, out, rank);
    }

    private static boolean factorizable(LayerSpec layer) {
        return layer instanceof LayerSpec.Dense d && d.bias() || layer instanceof LayerSpec.Conv2d c && c.bias();
    }

    private static INDArray array(double[][] values) {
        return Nd4j.createFromArray(values).castTo(DataType.FLOAT);
    }
}
