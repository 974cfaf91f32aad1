/**
 * Stages applied to the chains' final students after distillation (pruning, low-rank factorization),
 * declared in the config's {@code stages:} list: each takes a trained model and adds a smaller one to the run.
 */
package dev.distill.runner.stages;
