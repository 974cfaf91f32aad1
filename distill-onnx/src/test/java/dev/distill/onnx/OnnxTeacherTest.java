package dev.distill.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.DistillException;
import dev.distill.models.spec.InputShape;
import dev.distill.onnx.OnnxGraph.Attr;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import onnx.Onnx.ModelProto;
import onnx.Onnx.OperatorSetIdProto;
import onnx.Onnx.TensorProto;
import onnx.Onnx.TensorShapeProto;
import onnx.Onnx.TypeProto;
import onnx.Onnx.ValueInfoProto;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * How an ONNX teacher is fed: an identity-like model (Flatten of its image input) shows exactly what
 * distill passed in, so the layout (NHWC reorders distill's channels-first values), the scale and the
 * per-channel normalization can be checked value by value.
 */
class OnnxTeacherTest {

    /** 2 channels of 2x3 pixels; 12 values per example, which the flatten model returns as 12 "classes". */
    private static final InputShape IMAGE = InputShape.image(2, 3, 2);

    @TempDir
    Path temp;

    @Test
    void nhwcGetsDistillsChannelsFirstValuesInHeightWidthChannelOrder() throws Exception {
        INDArray x = Nd4j.createFromArray(new float[][] {values(12, 0), values(12, 100)});
        float[] got = open(OnnxTeacherSpec.of(flatten(new long[] {-1, 2, 3, 2}), OnnxTeacherSpec.Layout.NHWC), x)
                .logits(x).getRow(1).toFloatVector();
        float[] expected = new float[12];
        for (int c = 0; c < 2; c++) {
            for (int p = 0; p < 6; p++) {
                // distill's value (c, p) sits at NHWC position p * channels + c
                expected[p * 2 + c] = 100 + c * 6 + p;
            }
        }
        assertArrayEquals(expected, got);
    }

    @Test
    void scaleThenPerChannelMeanAndStdAreApplied() throws Exception {
        INDArray x = Nd4j.createFromArray(new float[][] {values(12, 0)});
        OnnxTeacherSpec spec = OnnxTeacherSpec.of(flatten(new long[] {-1, 2, 2, 3}), OnnxTeacherSpec.Layout.NCHW)
                .withNormalization(2, List.of(1.0, 3.0), List.of(2.0, 4.0));
        float[] got = open(spec, x).logits(x).toFloatVector();
        for (int i = 0; i < 12; i++) {
            int c = i / 6;
            assertEquals((i * 2 - (c == 0 ? 1.0 : 3.0)) / (c == 0 ? 2.0 : 4.0), got[i], 1e-6, "value " + i);
        }
    }

    @Test
    void probabilitiesBecomeTheirLogarithmAndAZeroStaysFinite() throws Exception {
        INDArray x = Nd4j.createFromArray(new float[][] {{0.5f, 0.25f, 0.25f, 0f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f}});
        OnnxTeacherSpec spec = OnnxTeacherSpec.of(flatten(new long[] {-1, 12}), OnnxTeacherSpec.Layout.FLAT)
                .withOutput(OnnxTeacherSpec.Output.PROBABILITIES, null);
        float[] got = open(spec, x).logits(x).toFloatVector();
        assertEquals(Math.log(0.5), got[0], 1e-6);
        assertEquals(Math.log(0.25), got[1], 1e-6);
        assertTrue(Float.isFinite(got[3]) && got[3] < -80, "log of 0: " + got[3]);
    }

    @Test
    void aFlatLayoutForImageDataIsAllowedButAnImageLayoutForFlatDataIsNot() throws Exception {
        Path file = flatten(new long[] {-1, 12});
        INDArray x = Nd4j.createFromArray(new float[][] {values(12, 0)});
        DistillException e = assertThrows(DistillException.class, () -> OnnxTeacher.open(
                OnnxTeacherSpec.of(file, OnnxTeacherSpec.Layout.NCHW), InputShape.flat(12), 12, x, 1));
        assertEquals(file + ": layout nchw needs image data, but the data is flat 12; use layout: flat", e.getMessage());
    }

    private OnnxTeacher open(OnnxTeacherSpec spec, INDArray probe) {
        return OnnxTeacher.open(spec, spec.layout() == OnnxTeacherSpec.Layout.FLAT ? InputShape.flat(12) : IMAGE, 12,
                probe, 1);
    }

    private static float[] values(int n, float from) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = from + i;
        }
        return v;
    }

    /** input of {@code shape} -> Flatten(axis 1) -> output [N, 12]. */
    private Path flatten(long[] shape) throws Exception {
        OnnxGraph g = new OnnxGraph("flatten");
        TensorShapeProto.Builder dims = TensorShapeProto.newBuilder();
        for (long d : shape) {
            dims.addDim(d < 0 ? TensorShapeProto.Dimension.newBuilder().setDimParam("N")
                    : TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        g.node("Flatten", "output", new Attr[] {Attr.integer("axis", 1)}, "x");
        g.output("output", 12);
        ModelProto model = ModelProto.newBuilder().setIrVersion(7)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13))
                .setGraph(g.build().toBuilder().addInput(ValueInfoProto.newBuilder().setName("x").setType(
                        TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
                                .setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(dims))))).build();
        Path file = temp.resolve("flatten-" + shape.length + ".onnx");
        Files.write(file, model.toByteArray());
        return file;
    }
}
