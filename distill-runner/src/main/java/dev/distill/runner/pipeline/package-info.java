/**
 * The run: data loading and splits, the plan of models (teacher → assistants → students, baselines),
 * training and evaluation, and the run directory they write.
 */
package dev.distill.runner.pipeline;
