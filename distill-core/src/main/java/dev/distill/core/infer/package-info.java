/**
 * Inference without DL4J's per-call machinery, for the models a phone or a board would run one
 * example at a time: small dense stacks compiled to plain arrays.
 */
package dev.distill.core.infer;
