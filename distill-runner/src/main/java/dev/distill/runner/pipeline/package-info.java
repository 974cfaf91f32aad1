/**
 * The run: data loading and splits, the plan of models (teacher → assistants → students, baselines),
 * training and evaluation, the run directory they write, and what makes a run resumable (progress,
 * lock, result-changing config edits).
 */
package dev.distill.runner.pipeline;
