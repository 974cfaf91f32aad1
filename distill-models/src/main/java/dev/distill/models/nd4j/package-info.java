/**
 * Fixes to how ND4J itself runs, applied once per process: the fenced op executioner that keeps an
 * op's native buffers alive until its native call returns.
 */
package dev.distill.models.nd4j;
