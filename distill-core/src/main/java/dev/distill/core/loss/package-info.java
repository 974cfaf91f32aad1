/**
 * Loss functions for distillation, as DL4J {@code ILossFunction}s so that networks train with them
 * through DL4J's own fit loop; each has a gradient check in the tests.
 */
package dev.distill.core.loss;
