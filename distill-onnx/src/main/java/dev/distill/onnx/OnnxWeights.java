package dev.distill.onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import onnx.Onnx.ModelProto;
import onnx.Onnx.TensorProto;
import org.nd4j.shade.protobuf.InvalidProtocolBufferException;

/**
 * What an ONNX file stores as weights: its graph's initializers other than int32/int64 ones (those
 * hold shapes, axes and indices), counted (parameters) and, for float tensors, their non-zero values;
 * read with nd4j-api's ONNX protobuf classes.
 *
 * @param params  elements of the weight initializers, or -1 if the file could not be parsed
 * @param nonzero their non-zero elements (non-float weights count as non-zero), or -1
 */
public record OnnxWeights(long params, long nonzero) {

    public static OnnxWeights of(byte[] onnx) {
        ModelProto model;
        try {
            model = ModelProto.parseFrom(onnx);
        } catch (InvalidProtocolBufferException e) {
            // ONNX Runtime may read files newer than nd4j's protobuf classes know
            return new OnnxWeights(-1, -1);
        }
        long params = 0;
        long nonzero = 0;
        for (TensorProto t : model.getGraph().getInitializerList()) {
            if (t.getDataType() == TensorProto.DataType.INT64_VALUE || t.getDataType() == TensorProto.DataType.INT32_VALUE) {
                // shapes, axes and slice bounds, not weights
                continue;
            }
            long n = 1;
            for (long d : t.getDimsList()) {
                n *= d;
            }
            params += n;
            nonzero += t.getDataType() == TensorProto.DataType.FLOAT_VALUE ? nonzeroFloats(t) : n;
        }
        return new OnnxWeights(params, nonzero);
    }

    private static long nonzeroFloats(TensorProto t) {
        long count = 0;
        if (!t.getRawData().isEmpty()) {
            ByteBuffer raw = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            while (raw.remaining() >= 4) {
                count += raw.getFloat() != 0 ? 1 : 0;
            }
            return count;
        }
        for (float f : t.getFloatDataList()) {
            count += f != 0 ? 1 : 0;
        }
        return count;
    }
}
