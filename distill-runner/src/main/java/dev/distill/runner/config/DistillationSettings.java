package dev.distill.runner.config;

import dev.distill.core.loss.DistillationLoss;

/**
 * The distillation loss of a link: {@code softWeight · T² · KL(teacher_T ‖ student_T) + hardWeight ·
 * CE(labels, student)}. Defaults T=4, soft 0.9, hard 0.1 (Hinton et al. 2015).
 */
public record DistillationSettings(double temperature, double softWeight, double hardWeight) {

    public static final DistillationSettings DEFAULTS = new DistillationSettings(4.0, 0.9, 0.1);

    public DistillationLoss loss() {
        return new DistillationLoss(temperature, softWeight, hardWeight);
    }
}
