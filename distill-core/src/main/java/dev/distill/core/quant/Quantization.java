package dev.distill.core.quant;

import dev.distill.runtime.Half;
import dev.distill.runtime.QuantizedTensor;
import dev.distill.core.data.LabeledData;
import dev.distill.core.eval.Accuracy;
import dev.distill.core.prune.Prunable;
import dev.distill.core.train.FineTuning;
import dev.distill.models.spec.ModelSpec;
import java.util.ArrayList;
import java.util.List;
import dev.distill.models.network.Network;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A quantization stage from a trained (possibly pruned) model: post-training quantization of every
 * weight tensor of its dense, conv and output layers (biases and batch norm stay float32), then the
 * scheme's fine-tuning: k-means centroids by grouped gradients ({@link CentroidTuner}), binary and
 * INT8 with {@code qat} straight-through ({@link StraightThrough}); then, for INT8, the activation
 * ranges of the integer path. If fine-tuning ends below the post-training model's validation accuracy,
 * the post-training model is kept. The input network is never changed.
 */
public final class Quantization {

    /** A tensor with more zeros than this fraction stores only its non-zeros (the pruned zeros stay zero). */
    static final double SPARSE_FROM = 0.1;

    /**
     * The quantized model: the network with dequantized weights, what the packed file stores and the
     * validation accuracy of the input, right after quantization and after fine-tuning.
     */
    public record Outcome(MultiLayerNetwork net, List<QuantizedTensor> tensors,
            List<ActivationCalibration.Range> activations, double validationBefore, double validationQuantized,
            double validationAfter, double seconds) {
    }

    private final QuantSettings settings;
    private final FineTuning fineTuning;

    /**
     * @param fineTuning the loss, updater (plain SGD for k-means, so that a centroid's step is the grouped
     *                   gradient), data and listeners of fine-tuning; its epochs are {@code settings}'
     */
    public Quantization(QuantSettings settings, FineTuning fineTuning) {
        this.settings = settings;
        this.fineTuning = fineTuning;
    }

    public Outcome run(MultiLayerNetwork model, ModelSpec spec) {
        long start = System.nanoTime();
        MultiLayerNetwork net = fineTuning.copy(model, spec);
        LabeledData validation = fineTuning.validation();
        double before = Accuracy.of(net, validation);
        List<QuantizedTensor> tensors = new ArrayList<>();
        for (Prunable p : Prunable.of(net, false, true)) {
            INDArray param = net.getParam(p.key());
            float[] values = PackedModelFile.values(param);
            int[] positions = storedPositions(values);
            QuantizedTensor t = quantize(p.key(), values, param.shape(), channelAxis(p), positions);
            tensors.add(t);
            net.setParam(p.key(), Nd4j.create(t.dequantize(), t.shape(), 'c'));
        }
        double quantized = Accuracy.of(net, validation);
        double after = quantized;
        List<QuantizedTensor> postTraining = List.copyOf(tensors);
        if (settings.fineTuneEpochs() > 0 && (settings.scheme() != QuantSettings.Scheme.INT8 || settings.qat())) {
            if (settings.scheme() == QuantSettings.Scheme.KMEANS) {
                fineTuning.fit(net, settings.fineTuneEpochs(), new CentroidTuner(net, tensors), true);
                tensors = CentroidTuner.codebooksOf(net, tensors);
            } else {
                fineTuning.fit(net, settings.fineTuneEpochs(), new StraightThrough(net, tensors,
                        t -> values -> quantize(t.key(), values, t.shape(), t.channelAxis(), t.positions())), true);
                List<QuantizedTensor> tuned = new ArrayList<>();
                for (QuantizedTensor t : tensors) {
                    tuned.add(quantize(t.key(), PackedModelFile.values(net.getParam(t.key())), t.shape(),
                            t.channelAxis(), t.positions()));
                }
                tensors = tuned;
            }
            after = set(net, tensors);
            if (after < quantized) {
                // fine-tuning keeps its best epoch, which may still be worse than no fine-tuning at all
                after = set(net, postTraining);
                tensors = postTraining;
            }
        }
        tensors = halfParameters(net, tensors);
        after = Accuracy.of(net, validation);
        List<ActivationCalibration.Range> activations = settings.scheme() == QuantSettings.Scheme.INT8
                ? ActivationCalibration.measure(net, fineTuning.features(),
                        fineTuning.spec().batchSize(), settings.calibrationBatches(),
                        settings.calibration() == QuantSettings.Calibration.MINMAX ? 100 : settings.percentile())
                : List.of();
        return new Outcome(net, tensors, activations, before, quantized, after, (System.nanoTime() - start) / 1e9);
    }

    /**
     * Rounds the float parameters the packed file stores (scales, centroids, and the network's other
     * parameters: biases, batch norm) to half precision, in the tensors and in {@code net}, so the file
     * holds them at 16 bits exactly. Half keeps 11 significant bits, more than the 8-bit codes they
     * scale; the stage measures the accuracy of the file read back, this rounding included.
     */
    private static List<QuantizedTensor> halfParameters(org.deeplearning4j.nn.api.Model net,
            List<QuantizedTensor> tensors) {
        List<QuantizedTensor> rounded = new ArrayList<>();
        java.util.Set<String> quantized = new java.util.HashSet<>();
        for (QuantizedTensor t : tensors) {
            quantized.add(t.key());
            QuantizedTensor r = new QuantizedTensor(t.key(), t.shape(), t.kind(), t.bits(), t.channelAxis(),
                    t.scales() == null ? null : Half.round(t.scales()), t.zeroPoints(),
                    t.codebook() == null ? null : Half.round(t.codebook()), t.positions(), t.codes(), t.floats());
            rounded.add(r);
            net.setParam(t.key(), Nd4j.create(r.dequantize(), r.shape(), 'c'));
        }
        for (java.util.Map.Entry<String, INDArray> e : net.paramTable().entrySet()) {
            if (!quantized.contains(e.getKey())) {
                INDArray p = e.getValue();
                net.setParam(e.getKey(), Nd4j.create(Half.round(PackedModelFile.values(p)), p.shape(), 'c')
                        .castTo(p.dataType()));
            }
        }
        return rounded;
    }

    /** Puts the tensors' values into {@code net}; its validation accuracy. */
    private double set(MultiLayerNetwork net, List<QuantizedTensor> tensors) {
        for (QuantizedTensor t : tensors) {
            net.setParam(t.key(), Nd4j.create(t.dequantize(), t.shape(), 'c'));
        }
        return Accuracy.of(net, fineTuning.validation());
    }

    /**
     * Post-training INT8 without fine-tuning or validation (what {@code distill export --int8} ships):
     * symmetric per-output-channel weight codes, parameters rounded to half, and min-max activation ranges
     * from the first {@code batches} batches of {@code calibration}. The input network is never changed;
     * the outcome's accuracies are NaN (nothing was validated).
     */
    public static Outcome postTrainingInt8(MultiLayerNetwork model, INDArray calibration, int batchSize, int batches) {
        long start = System.nanoTime();
        MultiLayerNetwork net = model.clone();
        List<QuantizedTensor> tensors = new ArrayList<>();
        for (Prunable p : Prunable.of(net, false, true)) {
            INDArray param = net.getParam(p.key());
            float[] values = PackedModelFile.values(param);
            int[] positions = storedPositions(values);
            tensors.add(Quantizers.linear(p.key(), values, param.shape(), channelAxis(p, true), 8, true, positions));
        }
        tensors = halfParameters(net, tensors);
        List<ActivationCalibration.Range> activations = ActivationCalibration.measure(net, calibration, batchSize,
                batches, 100);
        return new Outcome(net, tensors, activations, Double.NaN, Double.NaN, Double.NaN,
                (System.nanoTime() - start) / 1e9);
    }

    /**
     * A graph (the zoo's students) quantized after training, without fine-tuning (nothing trains a graph
     * through the centroid or straight-through hooks yet): every weight tensor of its dense, conv, depthwise,
     * separable and output layer vertices coded with {@code settings}' scheme, parameters rounded to half.
     * Keys are {@code <vertex>_<param>}. Graphs have no int8 path: no activation ranges are measured, and
     * the runtime decodes the weights at load time. The input graph is never changed; the outcome's
     * accuracies are NaN (nothing was validated).
     *
     * @throws IllegalArgumentException if {@code settings} asks for fine-tuning or quantization-aware training
     */
    public static GraphOutcome postTraining(Network.Graph graph, QuantSettings settings, long seed) {
        if (settings.qat() || settings.fineTuneEpochs() > 0 && settings.scheme() != QuantSettings.Scheme.INT8) {
            throw new IllegalArgumentException("a graph is quantized after training only: fine_tune_epochs must be 0"
                    + " and qat false, got fine_tune_epochs " + settings.fineTuneEpochs() + ", qat " + settings.qat());
        }
        long start = System.nanoTime();
        ComputationGraph net = graph.graph().clone();
        List<QuantizedTensor> tensors = new ArrayList<>();
        for (GraphVertex v : net.getVertices()) {
            String type = v.hasLayer() ? Prunable.type(v.getLayer().conf().getLayer()) : null;
            if (type == null) {
                continue;
            }
            for (String param : v.getLayer().paramTable().keySet()) {
                if (param.equals("b")) {
                    continue;
                }
                String key = v.getVertexName() + "_" + param;
                INDArray values = net.getParam(key);
                float[] floats = PackedModelFile.values(values);
                QuantizedTensor t = quantize(settings, seed, key, floats, values.shape(),
                        channelAxis(Prunable.layerName(type, 0), param, settings.perChannel()), storedPositions(floats));
                tensors.add(t);
                net.setParam(key, Nd4j.create(t.dequantize(), t.shape(), 'c'));
            }
        }
        tensors = halfParameters(net, tensors);
        return new GraphOutcome(new Network.Graph(net), tensors, (System.nanoTime() - start) / 1e9);
    }

    /** A graph quantized after training: its dequantized weights, and the tensors the packed file stores. */
    public record GraphOutcome(Network.Graph graph, List<QuantizedTensor> tensors, double seconds) {
    }

    private int channelAxis(Prunable p) {
        return channelAxis(p, settings.perChannel());
    }

    private static int channelAxis(Prunable p, boolean perChannel) {
        return channelAxis(p.layerName(), p.param(), perChannel);
    }

    /**
     * The output-channel axis of a layer's weights: dense [in, out] → 1, conv [out, in, kh, kw] → 0,
     * depthwise [kh, kw, in, multiplier] → 2 (its input channel); else none.
     */
    private static int channelAxis(String name, String param, boolean perChannel) {
        if (!perChannel || !param.equals("W")) {
            return -1;
        }
        if (name.startsWith("dense_") || name.startsWith("output_")) {
            return 1;
        }
        if (name.startsWith("depthwise_conv2d_")) {
            // [kh, kw, in, multiplier]: one scale per input channel. Per tensor, the small channels of a
            // depthwise layer (a batch norm after it scales them back up) lost whole classes: the int8
            // weights alone changed the class of 2.25% of Fashion-MNIST's test images (RuntimeAgreementTest)
            return 2;
        }
        return name.startsWith("conv2d_") ? 0 : -1;
    }

    private QuantizedTensor quantize(String key, float[] values, long[] shape, int axis, int[] positions) {
        return quantize(settings, fineTuning.seed(), key, values, shape, axis, positions);
    }

    private static QuantizedTensor quantize(QuantSettings settings, long seed, String key, float[] values,
            long[] shape, int axis, int[] positions) {
        switch (settings.scheme()) {
            case INT8:
                return Quantizers.linear(key, values, shape, axis, settings.bits(), settings.symmetric(), positions);
            case KMEANS:
                return Quantizers.kmeans(key, values, shape, settings.bits(), settings.init(), seed, positions);
            case BINARY:
                return Quantizers.binary(key, values, shape, axis, positions);
            default:
                throw new IllegalStateException(settings.scheme().name());
        }
    }

    /**
     * The positions to store of a tensor's values: its non-zero ones when at least {@link #SPARSE_FROM} of
     * the values are zero (pruned), else null (stored dense).
     */
    private static int[] storedPositions(float[] values) {
        int[] positions = Quantizers.nonzeroPositions(values);
        return positions != null && positions.length > (1 - SPARSE_FROM) * values.length ? null : positions;
    }
}
