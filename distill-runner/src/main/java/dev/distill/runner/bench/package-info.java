/**
 * {@code ./distill bench}: what training and inference cost on this machine, measured in one process
 * with warm-up and medians over repeats, and set against the machine's own GEMM peak so that figures
 * from a loaded, shared machine still compare. Not a test: it prints figures and writes bench.json.
 */
package dev.distill.runner.bench;
