package dev.distill.runtime;

/** Which arithmetic a {@link Model} runs. */
public enum Precision {
    /** Every op in float32 (quantized weights decoded at load time). */
    FLOAT32,
    /** Dense and conv ops with int8 weights and a calibrated input range in integers, the rest in float32. */
    INT8
}
