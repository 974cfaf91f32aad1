/**
 * Pruning: which weights may be pruned, magnitude and structured pruners, the masks that keep pruned
 * weights at zero through fine-tuning, the Zhu &amp; Gupta schedule, and the sparse model file format.
 */
package dev.distill.core.prune;
