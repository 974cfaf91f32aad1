package dev.distill.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.quant.PackedModelFile;
import dev.distill.core.quant.Quantization;
import dev.distill.models.network.Network;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.ModelSpec;
import dev.distill.onnx.OnnxExporter;
import dev.distill.onnx.OrtRun;
import dev.distill.onnx.PackedOnnxExporter;
import dev.distill.runner.config.ConfigLoader;
import dev.distill.runner.config.ExperimentConfig;
import dev.distill.runner.pipeline.ExperimentData;
import dev.distill.runtime.Model;
import dev.distill.runtime.Precision;
import dev.distill.runtime.QuantizedTensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import onnx.Onnx.ModelProto;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Packed files (format 3) of digits students trained briefly (MLP, CNN, depthwise with batch norm,
 * DL4J's separable convolution: float32 and post-training int8; the zoo's graph students: float32), exported to ONNX from distill-runtime's
 * ops and run in ONNX Runtime (one thread) on the whole test split, against the runtime's float path on
 * the same file: the same class on every example, probabilities within 1e-5. For int8 files the float
 * path decodes the int8 weights, which is what the export's DequantizeLinear computes (QDQ on the
 * weights only).
 */
class PackedOnnxAgreementTest {

    @TempDir
    Path dir;

    @Test
    void digitsStudentsPackedInFloatAndInt8GiveTheRuntimesFloatPathInOnnxRuntime() throws Exception {
        ExperimentConfig config = ConfigLoader.load(Path.of("../configs/digits-takd.yaml").toAbsolutePath().normalize());
        ExperimentData data = ExperimentData.load(config.data(), config.seed());
        InputShape input = InputShape.image(8, 8, 1);
        int n = data.train().size();
        for (var student : List.of(
                new Object[] {"digits-mlp", RuntimeAgreementTest.MLP},
                new Object[] {"digits-cnn", RuntimeAgreementTest.CNN},
                new Object[] {"digits-mobile", RuntimeAgreementTest.MOBILE},
                new Object[] {"digits-separable", RuntimeAgreementTest.SEPARABLE})) {
            String label = (String) student[0];
            MultiLayerNetwork net = RuntimeAgreementTest.trained((ModelSpec) student[1], input, data.train(), n, 5);
            Path floats = dir.resolve(label + ".packed");
            PackedModelFile.write(net, List.of(), List.of(), false, config.data().source().preprocessing(),
                    config.data().source().classNames(), floats);
            check(label + " float32", floats, data, false);
            Quantization.Outcome o = Quantization.postTrainingInt8(net, data.train().features(), 64, 8);
            Path int8 = dir.resolve(label + "-int8.packed");
            PackedModelFile.write(o.net(), o.tensors(), o.activations(), false, config.data().source().preprocessing(),
                    config.data().source().classNames(), int8);
            check(label + " int8", int8, data, true);
        }
    }

    /** The zoo's graph students (residual, concat, group convolution with shuffle), packed float32 (int8 graphs are refused). */
    @Test
    void zooGraphStudentsPackedGiveTheRuntimesFloatPathInOnnxRuntime() throws Exception {
        ExperimentConfig config = ConfigLoader.load(Path.of("../configs/digits-takd.yaml").toAbsolutePath().normalize());
        ExperimentData data = ExperimentData.load(config.data(), config.seed());
        for (String name : List.of("resnet-tiny", "shufflenet-tiny", "mobilenet-tiny")) {
            Network.Graph net = RuntimeAgreementTest.trainedGraph(name, data);
            Path file = dir.resolve(name + ".packed");
            PackedModelFile.write(net, config.data().source().preprocessing(), config.data().source().classNames(),
                    file);
            check("digits-" + name + " float32", file, data, false);
        }
    }

    /** Exports the packed file and compares ONNX Runtime with the runtime's float path on the test split. */
    private static void check(String label, Path file, ExperimentData data, boolean int8) throws Exception {
        Model packed = PackedModelFile.read(file);
        ModelProto onnx = PackedOnnxExporter.export(packed.description(), PackedOnnxExporter.metadata(packed.description()));
        byte[] bytes = onnx.toByteArray();
        INDArray x = data.test().features();
        INDArray ort = OrtRun.run(bytes, x, OnnxExporter.PROBABILITIES, 1);
        Model floats = packed.withPrecision(Precision.FLOAT32);
        int same = 0;
        double maxDiff = 0;
        for (int i = 0; i < x.rows(); i++) {
            float[] p = floats.predictPreprocessed(x.getRow(i).toFloatVector());
            float[] q = ort.getRow(i).toFloatVector();
            for (int c = 0; c < p.length; c++) {
                maxDiff = Math.max(maxDiff, Math.abs(p[c] - q[c]));
            }
            same += Model.argmax(p) == Model.argmax(q) ? 1 : 0;
        }
        long dequantize = onnx.getGraph().getNodeList().stream().filter(nd -> nd.getOpType().equals("DequantizeLinear"))
                .count();
        System.out.printf(Locale.ROOT, "packed->onnx %-24s same class %d/%d, max |p diff| %.2e, packed %,d bytes, "
                + "onnx %,d bytes, %d int8 weight tensors%n", label, same, x.rows(), maxDiff, Files.size(file),
                bytes.length, dequantize);
        assertEquals(x.rows(), same, label + ": same class");
        assertTrue(maxDiff <= 1e-5, label + ": max |probability difference| " + maxDiff);
        long int8Weights = packed.description().ops().stream().filter(op -> op.weights() != null
                && op.weights().kind() == QuantizedTensor.Kind.LINEAR && op.weights().bits() <= 8).count();
        assertEquals(int8, int8Weights > 0, label);
        assertEquals(int8Weights, dequantize, label + ": every int8 weight tensor as codes behind DequantizeLinear");
    }
}
