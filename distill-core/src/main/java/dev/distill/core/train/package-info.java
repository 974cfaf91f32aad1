/**
 * Training: the loop, its specs (epochs, optimizer, schedule), listeners, the teacher logits that
 * distillation caches once per teacher, and the state and policy of checkpoints that resume exactly.
 */
package dev.distill.core.train;
