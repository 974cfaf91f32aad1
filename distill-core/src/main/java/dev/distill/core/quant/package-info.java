/**
 * Quantization after distillation: linear INT8 (symmetric or asymmetric, per tensor or per output
 * channel), k-means weight sharing with centroid fine-tuning and binary weights, each written at its
 * real bit width into our packed file ({@link dev.distill.core.quant.PackedModelFile}), which
 * distill-runtime runs in float32 or, for int8 dense and conv layers, in integers.
 */
package dev.distill.core.quant;
