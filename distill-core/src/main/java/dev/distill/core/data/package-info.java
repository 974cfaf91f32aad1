/**
 * Labelled examples held in memory, and the deterministic splits taken from them.
 */
package dev.distill.core.data;
