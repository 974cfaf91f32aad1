/**
 * Training: the loop, its specs (epochs, optimizer, schedule), listeners, and the teacher logits
 * that distillation caches once per teacher.
 */
package dev.distill.core.train;
