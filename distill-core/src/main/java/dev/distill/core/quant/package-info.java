/**
 * Quantization after distillation: linear INT8 (symmetric or asymmetric, per tensor or per output
 * channel), k-means weight sharing with centroid fine-tuning and binary weights, each written at its
 * real bit width into our packed file ({@link dev.distill.core.quant.PackedModelFile}) and, for INT8
 * dense networks, run with integer arithmetic ({@link dev.distill.core.quant.IntegerRuntime}).
 */
package dev.distill.core.quant;
