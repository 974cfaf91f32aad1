/**
 * Batched inference of DL4J networks without DL4J's per-call allocations ({@link dev.distill.core.infer.ConvRuntime}:
 * channels-last libnd4j ops into reused buffers), for teachers during training and for {@code bench}. A model
 * that leaves the framework runs on distill-runtime instead ({@code dev.distill.runtime.Model}).
 */
package dev.distill.core.infer;
