package dev.distill.runner.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.runner.testing.CliRun;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import onnx.Onnx.GraphProto;
import onnx.Onnx.ModelProto;
import onnx.Onnx.NodeProto;
import onnx.Onnx.OperatorSetIdProto;
import onnx.Onnx.TensorProto;
import onnx.Onnx.TensorShapeProto;
import onnx.Onnx.TypeProto;
import onnx.Onnx.ValueInfoProto;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.shade.protobuf.ByteString;

/**
 * Bad ONNX teachers through {@code distill run}: each is one line on stderr naming the file and what is
 * wrong (or what would fit), exit code 2, and no run directory. The models are built here with the ONNX
 * protobuf classes: a linear classifier {@code input -> [Flatten] -> MatMul(W) -> output} whose input
 * shape, weights, output width or op is made wrong one at a time.
 */
class OnnxBadInputTest {

    @TempDir
    Path temp;

    @Test
    void aFileThatIsNotOnnx() throws Exception {
        Path file = temp.resolve("teacher.onnx");
        Files.writeString(file, "name: not a model\n");
        assertRefused(file, "ONNX Runtime cannot load it as an ONNX model");
    }

    @Test
    void aTruncatedFile() throws Exception {
        byte[] whole = linear(new long[] {-1, 64}, 10, 0.01f, "MatMul").toByteArray();
        Path file = temp.resolve("teacher.onnx");
        Files.write(file, Arrays.copyOf(whole, whole.length / 2));
        assertRefused(file, "ONNX Runtime cannot load it as an ONNX model");
    }

    @Test
    void anOpOnnxRuntimeCannotRun() throws Exception {
        assertRefused(write(linear(new long[] {-1, 64}, 10, 0.01f, "NoSuchMatMul")), "NoSuchMatMul");
    }

    @Test
    void anInputOfTheWrongRank() throws Exception {
        assertRefused(write(linear(new long[] {-1, 8, 8}, 10, 0.01f, "MatMul")),
                "input 'input' has shape [N,8,8], but layout flat gives this data (8x8x1) as [N,64]; a teacher's "
                        + "input must have rank 2 (flat) or 4 (nchw, nhwc)");
    }

    @Test
    void anImageInputOfTheWrongSize() throws Exception {
        assertRefused(write(linear(new long[] {-1, 3, 8, 8}, 10, 0.01f, "MatMul")),
                "input 'input' has shape [N,3,8,8], but layout nchw gives this data (8x8x1) as [N,1,8,8]");
    }

    @Test
    void anOutputThatIsNotTheClassCount() throws Exception {
        assertRefused(write(linear(new long[] {-1, 64}, 5, 0.01f, "MatMul")),
                "output 'output' has shape [N,5], but the data has 10 classes: a teacher outputs [N, 10]");
    }

    @Test
    void nanOutputs() throws Exception {
        assertRefused(write(linear(new long[] {-1, 64}, 10, Float.NaN, "MatMul")),
                "output 'output' is not finite (NaN) on the data's first 8 test examples");
    }

    @Test
    void aMissingFileIsALocatedConfigError() throws Exception {
        CliRun r = run(temp.resolve("absent.onnx"));
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("models.teacher.onnx") && r.err().contains("ONNX model file not found"), r.err());
    }

    @Test
    void validateChecksTheOnnxTeacherToo() throws Exception {
        Path file = write(linear(new long[] {-1, 64}, 5, 0.01f, "MatMul"));
        CliRun r = CliRun.of("validate", config(file).toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().startsWith("error: " + file + ": output 'output' has shape [N,5]"), r.err());
    }

    @Test
    void aGoodLinearTeacherPassesValidate() throws Exception {
        CliRun r = CliRun.of("validate", config(write(linear(new long[] {-1, 64}, 10, 0.01f, "MatMul"))).toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("(ONNX, run by ONNX Runtime)"), r.out());
    }

    private void assertRefused(Path onnx, String problem) throws Exception {
        CliRun r = run(onnx);
        assertEquals(2, r.code(), r.out() + r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("error: " + onnx + ": "), r.err());
        assertTrue(r.err().contains(problem), r.err());
        assertFalse(Files.exists(temp.resolve("run")), "nothing created");
    }

    private CliRun run(Path onnx) throws Exception {
        return CliRun.of("run", config(onnx).toString(), "--out", temp.resolve("run").toString());
    }

    private Path config(Path onnx) throws Exception {
        Path file = temp.resolve("config.yaml");
        Files.writeString(file, """
                name: bad-onnx
                data: {dataset: digits, input: {height: 8, width: 8, channels: 1}, classes: 10}
                models:
                  teacher: {onnx: '%s'}
                  student: {layers: [{type: dense, units: 8, activation: relu}, {type: output, classes: 10}]}
                chains: [[teacher, student]]
                """.formatted(onnx));
        return file;
    }

    private Path write(ModelProto model) throws Exception {
        Path file = temp.resolve("teacher.onnx");
        Files.write(file, model.toByteArray());
        return file;
    }

    /** input (shape; -1 is the batch) -> Flatten -> op(., W [features, outputs] filled with {@code weight}) -> output. */
    static ModelProto linear(long[] inputShape, int outputs, float weight, String op) {
        long features = 1;
        for (int i = 1; i < inputShape.length; i++) {
            features *= inputShape[i];
        }
        float[] w = new float[(int) (features * outputs)];
        Arrays.fill(w, weight);
        ByteBuffer raw = ByteBuffer.allocate(w.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        raw.asFloatBuffer().put(w);
        GraphProto graph = GraphProto.newBuilder().setName("linear")
                .addInput(value("input", inputShape))
                .addOutput(value("output", new long[] {-1, outputs}))
                .addInitializer(TensorProto.newBuilder().setName("W").setDataType(TensorProto.DataType.FLOAT_VALUE)
                        .addDims(features).addDims(outputs).setRawData(ByteString.copyFrom(raw.array())))
                .addNode(NodeProto.newBuilder().setOpType("Flatten").addInput("input").addOutput("flat")
                        .addAttribute(onnx.Onnx.AttributeProto.newBuilder().setName("axis").setI(1)
                                .setType(onnx.Onnx.AttributeProto.AttributeType.INT)))
                .addNode(NodeProto.newBuilder().setOpType(op).addInput("flat").addInput("W").addOutput("output"))
                .build();
        return ModelProto.newBuilder().setIrVersion(7).setProducerName("test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13)).setGraph(graph).build();
    }

    private static ValueInfoProto value(String name, long[] shape) {
        TensorShapeProto.Builder dims = TensorShapeProto.newBuilder();
        for (long d : shape) {
            dims.addDim(d < 0 ? TensorShapeProto.Dimension.newBuilder().setDimParam("N")
                    : TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(dims))).build();
    }
}
