package dev.distill.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.runtime.ActivationFunction;
import dev.distill.runtime.Model;
import dev.distill.runtime.ModelDescription;
import dev.distill.runtime.Op;
import dev.distill.runtime.Precision;
import dev.distill.runtime.Preprocessing;
import dev.distill.runtime.QuantizedTensor;
import dev.distill.runtime.Window;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import onnx.Onnx.ModelProto;
import onnx.Onnx.StringStringEntryProto;
import onnx.Onnx.TensorProto;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Packed descriptions built op by op (every op kind, every weight encoding, pruned positions, odd
 * padding, a depthwise multiplier of 2 that DL4J cannot train), exported and run in ONNX Runtime (one
 * thread) against distill-runtime's float path on the same random inputs. Trained students are checked
 * on real data in distill-runner's PackedOnnxAgreementTest.
 */
class PackedOnnxExporterTest {

    private final Random random = new Random(11);

    @Test
    void convDepthwiseScaleShiftPoolingAndDenseOfEveryEncodingMatchTheRuntimesFloatPath() throws Exception {
        List<Op> ops = new ArrayList<>();
        // 2x7x7 in: conv 3x3 stride 2 same (odd padding at the bottom and right), int8 per filter, asymmetric, pruned
        ops.add(Op.conv2d(linear("c_W", new long[] {4, 2, 3, 3}, 0, true), floats("c_b", 4),
                new Window(3, 3, 2, 2, 0, 0, 1, 1, true), ActivationFunction.LEAKYRELU, 0.1f));
        ops.add(Op.scaleShift(values(4), values(4)));
        // depthwise, multiplier 2, k-means weights, explicit padding 1
        ops.add(Op.depthwiseConv2d(kmeans("d_W", new long[] {3, 3, 4, 2}), floats("d_b", 8),
                new Window(3, 3, 1, 1, 1, 1, 1, 1, false), ActivationFunction.ELU, 0.7f));
        ops.add(Op.activation(ActivationFunction.SWISH, 0));
        ops.add(Op.pool(false, new Window(2, 2, 1, 1, 0, 0, 1, 1, false)));
        ops.add(Op.pool(true, new Window(2, 2, 2, 2, 0, 0, 1, 1, true)));
        // flattened (c, h, w) into dense layers: binary per output, then int8 per tensor without bias
        ops.add(Op.dense(binary("e_W", new long[] {8 * 2 * 2, 12}), floats("e_b", 12), ActivationFunction.RELU6, 0));
        ops.add(Op.dense(linear("f_W", new long[] {12, 6}, -1, false), null, ActivationFunction.TANH, 0));
        ops.add(Op.dense(linear("g_W", new long[] {6, 5}, 1, true), floats("g_b", 5), ActivationFunction.SOFTMAX, 0));
        ModelDescription d = new ModelDescription(new int[] {2, 7, 7}, new Preprocessing(0.5f, -0.25f),
                List.of("a", "b", "c", "d", "e"), ops);
        ModelProto onnx = assertAgrees(d);
        assertEquals(3, onnx.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("DequantizeLinear"))
                .count(), "the conv's, f's and g's weights as int8 codes; k-means and binary as floats");
    }

    @Test
    void int8DepthwiseWeightsPerInputChannelOrPerMultiplierAndGlobalPoolingMatch() throws Exception {
        for (int axis : new int[] {2, 3, -1}) {
            List<Op> ops = new ArrayList<>();
            ops.add(Op.depthwiseConv2d(linear("d_W", new long[] {3, 3, 3, 2}, axis, true), floats("d_b", 6),
                    new Window(3, 3, 2, 2, 0, 0, 1, 1, true), ActivationFunction.SIGMOID, 0));
            ops.add(Op.conv2d(linear("p_W", new long[] {5, 6, 1, 1}, 0, false), null,
                    new Window(1, 1, 1, 1, 0, 0, 1, 1, false), ActivationFunction.RELU, 0));
            ops.add(Op.globalPool(axis == 2));
            ops.add(Op.dense(floats("o_W", 5, 4), floats("o_b", 4), ActivationFunction.IDENTITY, 0));
            ops.add(Op.activation(ActivationFunction.SOFTMAX, 0));
            assertAgrees(new ModelDescription(new int[] {3, 8, 8}, Preprocessing.NONE, List.of(), ops));
        }
    }

    @Test
    void graphOpsReadTheirInputsChannelSubsetsConcatAndResidualSumsMatch() throws Exception {
        Window same3 = new Window(3, 3, 1, 1, 0, 0, 1, 1, true);
        Window one = new Window(1, 1, 1, 1, 0, 0, 1, 1, false);
        List<Op> ops = new ArrayList<>();
        ops.add(Op.conv2d(linear("a_W", new long[] {6, 4, 3, 3}, 0, true), floats("a_b", 6), same3,
                ActivationFunction.RELU, 0));                                           // value 1
        ops.add(Op.subset(0, 2).withInputs(1));                                        // value 2
        ops.add(Op.subset(3, 5).withInputs(1));                                        // value 3
        ops.add(Op.conv2d(floats("b_W", 3, 3, 1, 1), floats("b_b", 3), one, ActivationFunction.IDENTITY, 0)
                .withInputs(2));                                                       // value 4
        ops.add(Op.concat().withInputs(3, 4));                                         // value 5: swapped halves
        ops.add(Op.add().withInputs(5, 1, 1));                                         // value 6: a sum of three
        ops.add(Op.activation(ActivationFunction.RELU, 0));                            // value 7
        ops.add(Op.globalPool(false));                                                 // value 8
        ops.add(Op.subset(1, 4));                                                      // value 9: flat channels
        ops.add(Op.dense(floats("c_W", 4, 4), floats("c_b", 4), ActivationFunction.IDENTITY, 0)); // value 10
        ops.add(Op.concat().withInputs(10, 9));                                        // value 11: flat concat
        ops.add(Op.add().withInputs(11, 11));
        ops.add(Op.activation(ActivationFunction.SOFTMAX, 0));
        ModelProto onnx = assertAgrees(new ModelDescription(new int[] {4, 6, 6}, Preprocessing.NONE, List.of(), ops));
        for (String kind : new String[] {"Slice", "Concat", "Sum", "Add"}) {
            assertTrue(onnx.getGraph().getNodeList().stream().anyMatch(n -> n.getOpType().equals(kind)), kind);
        }
    }

    @Test
    void prunedInt8WeightsAreTheirZeroPointsCodeSoTheyDequantizeToExactlyZero() {
        QuantizedTensor w = linear("W", new long[] {10, 3}, 1, true);
        ModelDescription d = new ModelDescription(new int[] {10, 1, 1}, Preprocessing.NONE, List.of(),
                List.of(Op.dense(w, floats("b", 3), ActivationFunction.SOFTMAX, 0)));
        ModelProto onnx = PackedOnnxExporter.export(d, Map.of());
        TensorProto codes = onnx.getGraph().getInitializerList().stream()
                .filter(t -> t.getDataType() == TensorProto.DataType.INT8_VALUE && t.getDimsCount() == 2).findFirst()
                .orElseThrow();
        ByteBuffer raw = codes.getRawData().asReadOnlyByteBuffer();
        boolean[] stored = new boolean[w.size()];
        for (int k = 0; k < w.stored(); k++) {
            stored[w.position(k)] = true;
        }
        int pruned = 0;
        for (int i = 0; i < w.size(); i++) {
            if (!stored[i]) {
                assertEquals(w.zeroPoints()[w.channelOf(i)], raw.get(i), "index " + i);
                pruned++;
            }
        }
        assertTrue(pruned > 0);
    }

    @Test
    void theMetadataCarriesThePreprocessingTheLayoutAndTheClassNames() {
        ModelDescription d = new ModelDescription(new int[] {1, 2, 2}, new Preprocessing(1f / 255, -0.5f),
                List.of("cat", "dog"), List.of(Op.dense(floats("W", 4, 2), null, ActivationFunction.SOFTMAX, 0)));
        Map<String, String> m = PackedOnnxExporter.metadata(d);
        assertEquals(1f / 255, Float.parseFloat(m.get(OnnxExporter.META_SCALE)));
        assertEquals(-0.5f, Float.parseFloat(m.get(PackedOnnxExporter.META_SHIFT)));
        assertEquals("image 1x2x2 (channels x height x width), flattened channels first", m.get(OnnxExporter.META_INPUT));
        assertEquals("cat\ndog", m.get(PackedOnnxExporter.META_CLASS_NAMES));
        List<StringStringEntryProto> props = PackedOnnxExporter.export(d, m).getMetadataPropsList();
        assertEquals(4, props.size());
        Map<String, String> none = PackedOnnxExporter.metadata(new ModelDescription(new int[] {4, 1, 1},
                Preprocessing.NONE, List.of(), d.ops()));
        assertEquals(Map.of(OnnxExporter.META_SCALE, "1.0", OnnxExporter.META_INPUT, "flat 4"), none);
    }

    /** Exports {@code d}, runs 64 random inputs in ONNX Runtime and the runtime's float path: probabilities within 1e-6. */
    private ModelProto assertAgrees(ModelDescription d) throws Exception {
        ModelProto onnx = PackedOnnxExporter.export(d, PackedOnnxExporter.metadata(d));
        Model runtime = Model.of(d, "test").withPrecision(Precision.FLOAT32);
        int n = 64;
        float[][] inputs = new float[n][runtime.inputSize()];
        for (float[] row : inputs) {
            for (int i = 0; i < row.length; i++) {
                row[i] = (float) random.nextGaussian();
            }
        }
        INDArray x = Nd4j.createFromArray(inputs);
        INDArray ort = OrtRun.run(onnx.toByteArray(), x, OnnxExporter.PROBABILITIES, 1);
        INDArray logits = OrtRun.run(onnx.toByteArray(), x, OnnxExporter.LOGITS, 1);
        double max = 0;
        for (int r = 0; r < n; r++) {
            float[] p = runtime.predictPreprocessed(inputs[r]);
            float[] l = logits.getRow(r).toFloatVector();
            float[] softmaxOfLogits = l.clone();
            softmax(softmaxOfLogits);
            for (int c = 0; c < p.length; c++) {
                max = Math.max(max, Math.abs(p[c] - ort.getFloat(r, c)));
                assertEquals(p[c], softmaxOfLogits[c], 1e-5, "logits are the softmax's input");
            }
        }
        assertTrue(max <= 1e-6, "max |probability difference| " + max);
        return onnx;
    }

    private static void softmax(float[] v) {
        double max = Double.NEGATIVE_INFINITY;
        for (float f : v) {
            max = Math.max(max, f);
        }
        double sum = 0;
        for (int i = 0; i < v.length; i++) {
            sum += Math.exp(v[i] - max);
        }
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (Math.exp(v[i] - max) / sum);
        }
    }

    private float[] values(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (random.nextGaussian() * 0.5 + (i % 2 == 0 ? 1 : 0));
        }
        return v;
    }

    private QuantizedTensor floats(String key, long... shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        return QuantizedTensor.ofFloats(key, shape, values((int) n));
    }

    private static int size(long[] shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        return (int) n;
    }

    /** Random 8-bit linear codes, a third of the positions pruned when asked, zero points in [-20, 20]. */
    private QuantizedTensor linear(String key, long[] shape, int axis, boolean pruned) {
        int channels = axis < 0 ? 1 : (int) shape[axis];
        float[] scales = new float[channels];
        int[] zeroPoints = new int[channels];
        for (int c = 0; c < channels; c++) {
            scales[c] = 0.002f + random.nextFloat() * 0.01f;
            zeroPoints[c] = random.nextInt(41) - 20;
        }
        List<Integer> positions = new ArrayList<>();
        for (int i = 0; i < size(shape); i++) {
            if (!pruned || random.nextInt(3) != 0) {
                positions.add(i);
            }
        }
        int[] codes = new int[positions.size()];
        for (int k = 0; k < codes.length; k++) {
            codes[k] = random.nextInt(256) - 128;
        }
        return new QuantizedTensor(key, shape, QuantizedTensor.Kind.LINEAR, 8, axis, scales, zeroPoints, null,
                pruned ? positions.stream().mapToInt(Integer::intValue).toArray() : null, codes, null);
    }

    private QuantizedTensor kmeans(String key, long[] shape) {
        float[] codebook = {0f, -0.3f, 0.2f, 0.45f};
        int[] codes = new int[size(shape)];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = random.nextInt(codebook.length);
        }
        return new QuantizedTensor(key, shape, QuantizedTensor.Kind.KMEANS, 2, -1, null, null, codebook, null, codes,
                null);
    }

    private QuantizedTensor binary(String key, long[] shape) {
        int channels = (int) shape[1];
        float[] scales = new float[channels];
        for (int c = 0; c < channels; c++) {
            scales[c] = 0.05f + random.nextFloat() * 0.1f;
        }
        int[] codes = new int[size(shape)];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = random.nextInt(2);
        }
        return new QuantizedTensor(key, shape, QuantizedTensor.Kind.BINARY, 1, 1, scales, null, null, null, codes,
                null);
    }
}
