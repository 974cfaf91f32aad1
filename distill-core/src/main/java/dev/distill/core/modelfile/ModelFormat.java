package dev.distill.core.modelfile;

/** The model file formats distill reads, told apart by their first bytes (ONNX, which has no magic, by its name). */
public enum ModelFormat {
    /** DL4J's zip ({@code ModelSerializer}), a sequential network or a graph. */
    ZIP,
    /** Our sparse format ({@code DSTLSPRS}, {@code SparseModelFile}): a sequential network, pruned weights compressed. */
    SPARSE,
    /** distill-runtime's packed format ({@code DSTLPACK}): runs without DL4J. */
    PACKED,
    /** An ONNX model ({@code .onnx}), run by ONNX Runtime. */
    ONNX
}
