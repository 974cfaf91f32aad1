/**
 * The distillation chain (teacher → assistants → student) as a library: its plan, the settings of each
 * link, link training and the teacher-logit cache; the CLI's pipeline is one caller among others.
 */
package dev.distill.core.chain;
