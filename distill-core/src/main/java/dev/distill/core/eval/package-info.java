/**
 * Evaluation of trained models on labelled data (accuracy, predictions), independent of how the
 * model was trained.
 */
package dev.distill.core.eval;
