/**
 * The distillation chain (teacher → assistants → student, ensembles of teachers, mutual students) as a
 * library: its plan, the settings of each link (with FitNets hints), the rules of chains ({@code ChainRules}),
 * link training and the teacher-logit cache; the CLI's pipeline is one caller among others.
 */
package dev.distill.core.chain;
