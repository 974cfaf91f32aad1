/**
 * Low-rank factorization: truncated SVDs of dense and conv weight matrices, the rank chosen from an
 * energy threshold or a parameter budget, and the smaller two-layer networks built from them.
 */
package dev.distill.core.lowrank;
