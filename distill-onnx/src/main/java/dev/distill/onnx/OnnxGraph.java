package dev.distill.onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashSet;
import java.util.Set;
import onnx.Onnx.AttributeProto;
import onnx.Onnx.GraphProto;
import onnx.Onnx.NodeProto;
import onnx.Onnx.TensorProto;
import onnx.Onnx.TensorShapeProto;
import onnx.Onnx.TypeProto;
import onnx.Onnx.ValueInfoProto;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.protobuf.ByteString;

/**
 * A thin layer over the ONNX protobuf builders of nd4j-api (package {@code onnx}): nodes with their
 * attributes, initializers from ND4J arrays, and fresh tensor names. The exporter says what to
 * build; this class only keeps the protobuf plumbing out of its way.
 */
final class OnnxGraph {

    private final GraphProto.Builder graph = GraphProto.newBuilder();
    private final Set<String> names = new HashSet<>();

    OnnxGraph(String name) {
        graph.setName(name);
    }

    GraphProto build() {
        return graph.build();
    }

    /** {@code base}, or {@code base_2}, {@code base_3}... if taken: every tensor gets one writer. */
    String fresh(String base) {
        String name = base;
        for (int i = 2; !names.add(name); i++) {
            name = base + "_" + i;
        }
        return name;
    }

    /** A float input {@code [batch, features]} with a symbolic batch dimension. */
    void input(String name, long features) {
        names.add(name);
        graph.addInput(floatValue(name, features));
    }

    /** A float output {@code [batch, width]}. */
    void output(String name, long width) {
        graph.addOutput(floatValue(name, width));
    }

    private static ValueInfoProto floatValue(String name, long width) {
        TensorShapeProto shape = TensorShapeProto.newBuilder()
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("batch"))
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(width))
                .build();
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
                        .setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(shape)))
                .build();
    }

    /** An initializer holding {@code values} (any order in memory; written row-major) as float, under a fresh name. */
    String weights(String base, INDArray values) {
        INDArray c = Nd4j.toFlattened('c', values.castTo(DataType.FLOAT));
        return floats(base, c.toFloatVector(), values.shape());
    }

    String floats(String base, float[] values, long... shape) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        return tensor(base, TensorProto.DataType.FLOAT_VALUE, ByteString.copyFrom(bytes), shape);
    }

    /** An int64 initializer (shapes, axes, slice bounds). */
    String longs(String base, long... values) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asLongBuffer().put(values);
        return tensor(base, TensorProto.DataType.INT64_VALUE, ByteString.copyFrom(bytes), values.length);
    }

    /** An int8 initializer (quantized weights, zero points); an empty shape is a scalar. */
    String int8(String base, byte[] values, long... shape) {
        return tensor(base, TensorProto.DataType.INT8_VALUE, ByteString.copyFrom(values), shape);
    }

    /** A float scalar initializer (Clip's bounds). */
    String scalar(String base, float value) {
        return floats(base, new float[] {value});
    }

    private String tensor(String base, int type, ByteString raw, long... shape) {
        String name = fresh(base);
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(type).setRawData(raw);
        for (long d : shape) {
            t.addDims(d);
        }
        graph.addInitializer(t);
        return name;
    }

    /** Adds a node {@code op(inputs) -> output} and returns its output's name. */
    String node(String op, String output, Attr[] attributes, String... inputs) {
        NodeProto.Builder node = NodeProto.newBuilder().setOpType(op).setName(output).addOutput(output);
        for (String in : inputs) {
            node.addInput(in);
        }
        for (Attr a : attributes) {
            node.addAttribute(a.proto());
        }
        graph.addNode(node);
        return output;
    }

    String node(String op, String output, String... inputs) {
        return node(op, output, new Attr[0], inputs);
    }

    /** One node attribute. */
    record Attr(AttributeProto proto) {
        static Attr ints(String name, long... values) {
            AttributeProto.Builder a = AttributeProto.newBuilder().setName(name)
                    .setType(AttributeProto.AttributeType.INTS);
            for (long v : values) {
                a.addInts(v);
            }
            return new Attr(a.build());
        }

        static Attr ints(String name, int... values) {
            return ints(name, java.util.Arrays.stream(values).asLongStream().toArray());
        }

        static Attr integer(String name, long value) {
            return new Attr(AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT)
                    .setI(value).build());
        }

        static Attr real(String name, double value) {
            return new Attr(AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT)
                    .setF((float) value).build());
        }

        static Attr string(String name, String value) {
            return new Attr(AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRING)
                    .setS(ByteString.copyFromUtf8(value)).build());
        }
    }
}
