package dev.distill.onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import dev.distill.runtime.ActivationFunction;
import dev.distill.runtime.QuantizedTensor;
import onnx.Onnx.AttributeProto;
import onnx.Onnx.GraphProto;
import onnx.Onnx.ModelProto;
import onnx.Onnx.NodeProto;
import onnx.Onnx.OperatorSetIdProto;
import onnx.Onnx.StringStringEntryProto;
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
 * attributes, initializers from ND4J arrays, fresh tensor names, and what both exporters (from a DL4J
 * network, {@link OnnxExporter}; from a packed file's ops, {@link PackedOnnxExporter}) write alike:
 * linear quantized weights as QDQ, activations, the two outputs and the model around the graph.
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

    /**
     * The model around this graph: opset {@value OnnxExporter#OPSET}, IR version 7 (the one that goes
     * with opset 13), producer distill, {@code metadata} as its metadata_props.
     */
    ModelProto model(Map<String, String> metadata) {
        String version = OnnxGraph.class.getPackage().getImplementationVersion();
        ModelProto.Builder model = ModelProto.newBuilder()
                .setIrVersion(7)
                .setProducerName("distill")
                .setProducerVersion(version == null ? "dev" : version)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OnnxExporter.OPSET))
                .setGraph(graph.build());
        metadata.forEach((k, v) -> model.addMetadataProps(StringStringEntryProto.newBuilder().setKey(k).setValue(v)));
        return model.build();
    }

    /**
     * The graph's two outputs, each {@code [batch, classes]}: {@value OnnxExporter#PROBABILITIES} (the
     * network's output) and {@value OnnxExporter#LOGITS} (the input of its final softmax).
     */
    void outputs(String probabilities, String logits, long classes) {
        node("Identity", OnnxExporter.PROBABILITIES, probabilities);
        node("Identity", OnnxExporter.LOGITS, logits);
        output(OnnxExporter.PROBABILITIES, classes);
        output(OnnxExporter.LOGITS, classes);
    }

    /** Whether {@code t} goes into ONNX as int8 codes: linear codes of at most 8 bits. */
    static boolean int8(QuantizedTensor t) {
        return t != null && t.kind() == QuantizedTensor.Kind.LINEAR && t.bits() <= 8;
    }

    /**
     * A linear quantized tensor ({@link #int8(QuantizedTensor)}) in its own shape and order as int8 codes
     * behind a DequantizeLinear along its channel axis, with its per-channel scales and zero points (one
     * of each, scalars, when it has no channel axis): ONNX computes (code − zero point) × scale, the
     * float the runtime decodes. Values not stored (pruned) are written as their channel's zero point, so
     * they decode to exactly zero. Returns the DequantizeLinear's output.
     */
    String dequantized(String name, QuantizedTensor t) {
        int channels = t.channels();
        byte[] codes = new byte[t.size()];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = (byte) t.zeroPoints()[t.channelOf(i)];
        }
        for (int k = 0; k < t.codes().length; k++) {
            codes[t.position(k)] = (byte) t.codes()[k];
        }
        byte[] zeroPoints = new byte[channels];
        for (int c = 0; c < channels; c++) {
            zeroPoints[c] = (byte) t.zeroPoints()[c];
        }
        long[] perChannel = t.channelAxis() < 0 ? new long[0] : new long[] {channels};
        String q = int8(name + "_quantized", codes, t.shape());
        String scale = floats(name + "_scale", t.scales().clone(), perChannel);
        String zero = int8(name + "_zero_point", zeroPoints, perChannel);
        Attr[] axis = t.channelAxis() < 0 ? new Attr[0] : new Attr[] {Attr.integer("axis", t.channelAxis())};
        return node("DequantizeLinear", fresh(name), axis, q, scale, zero);
    }

    /**
     * {@code f} applied to {@code x} (element-wise; softmax along axis 1), with each function's definition
     * in DL4J 1.0.0-M2.1 and distill-runtime; {@code alpha} is leaky ReLU's slope or ELU's α. Returns
     * {@code x} itself for the identity.
     */
    String activation(ActivationFunction f, float alpha, String x, String name) {
        switch (f) {
            case IDENTITY:
                return x;
            case RELU:
                return node("Relu", fresh(name), x);
            case RELU6:
                return node("Clip", fresh(name), x, scalar(name + "/min", 0f), scalar(name + "/max", 6f));
            case LEAKYRELU:
                return node("LeakyRelu", fresh(name), new Attr[] {Attr.real("alpha", alpha)}, x);
            case ELU:
                return node("Elu", fresh(name), new Attr[] {Attr.real("alpha", alpha)}, x);
            case TANH:
                return node("Tanh", fresh(name), x);
            case SIGMOID:
                return node("Sigmoid", fresh(name), x);
            case SWISH:
                // opset 13 has no Swish: x * sigmoid(x)
                return node("Mul", fresh(name), x, node("Sigmoid", fresh(name + "/sigmoid"), x));
            case SOFTMAX:
                return node("Softmax", fresh(name), new Attr[] {Attr.integer("axis", 1)}, x);
            default:
                throw new IllegalStateException(f.name());
        }
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
