/**
 * Immutable layer and model specs as a config declares them, with the shape check and the
 * parameter and multiply-add counts derived from them (independent of how DL4J stores a layer).
 */
package dev.distill.models.spec;
