package dev.distill.runner.config;

import dev.distill.core.loss.DistillationLoss;

/**
 * The distillation loss of a link: {@code softWeight · T² · KL(teacher_T ‖ student_T) + hardWeight ·
 * CE(labels, student)}. Defaults T=1, soft 0.5, hard 0.5: every sweep on validation in
 * docs/distillation-defaults.md chose them, on every student tried; the textbook T=4, soft 0.9, hard 0.1
 * made the protocol's MLP student worse than training it alone.
 */
public record DistillationSettings(double temperature, double softWeight, double hardWeight) {

    public static final DistillationSettings DEFAULTS = new DistillationSettings(1.0, 0.5, 0.5);

    public DistillationLoss loss() {
        return new DistillationLoss(temperature, softWeight, hardWeight);
    }
}
