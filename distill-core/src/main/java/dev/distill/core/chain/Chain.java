package dev.distill.core.chain;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * Models by name and how they teach each other, each link trained with {@code distillation}:
 * <ul>
 * <li>{@link Kind#SEQUENCE}: teacher → assistant(s) → student, each model distilled from the one before;
 * <li>{@link Kind#ENSEMBLE}: several teachers (every one but the last model, each a chain root: trained on
 * labels alone or loaded) teach the last model together, through the {@code weights}-average of their
 * softened probabilities ({@link EnsembleTargets});
 * <li>{@link Kind#MUTUAL}: deep mutual learning (Zhang et al. 2018): every model is a student, trained at
 * the same time as the others, each distilled from the others' current predictions; no teacher.
 * </ul>
 * The rules of a chain's own shape (teacher and student counts, weights) are checked here, once.
 */
public record Chain(List<String> models, DistillationSettings distillation, Kind kind, List<Double> weights) {

    /** Generations a born-again chain may have: each is a full training of the teacher's architecture. */
    public static final int MAX_GENERATIONS = 10;
    /** How far from 1 the sum of an ensemble's weights may be (decimal fractions in YAML do not add exactly). */
    static final double WEIGHT_SUM_TOLERANCE = 1e-6;

    /** How the models of a chain teach each other. */
    public enum Kind {
        SEQUENCE, ENSEMBLE, MUTUAL;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** @throws IllegalArgumentException naming what does not fit the chain's kind */
    public Chain {
        models = List.copyOf(models);
        weights = List.copyOf(weights);
        if (kind == Kind.ENSEMBLE) {
            checkEnsemble(models.subList(0, Math.max(0, models.size() - 1)), weights);
        } else if (!weights.isEmpty()) {
            throw new IllegalArgumentException("weights belong to an ensemble chain, not a " + kind.label() + " chain");
        }
        if (kind != Kind.SEQUENCE && distillation.hint() != null) {
            throw new IllegalArgumentException("a hint joins one teacher's layer to one student's; "
                    + (kind == Kind.ENSEMBLE ? "an ensemble" : "a mutual") + " chain cannot carry one");
        }
        if (kind == Kind.MUTUAL && models.size() < 2) {
            throw new IllegalArgumentException("mutual learning needs at least two students, found " + models.size()
                    + (models.isEmpty() ? "" : " (" + models.get(0) + ")") + ": each learns from the others");
        }
    }

    /** teacher → assistant(s) → student. */
    public Chain(List<String> models, DistillationSettings distillation) {
        this(models, distillation, Kind.SEQUENCE, List.of());
    }

    /**
     * {@code teachers} teach {@code student} through the average of their softened probabilities, weighted by
     * {@code weights} (null: equal weights).
     */
    public static Chain ensemble(List<String> teachers, List<Double> weights, String student,
            DistillationSettings settings) {
        List<String> names = new ArrayList<>(teachers);
        names.add(student);
        List<Double> w = weights != null ? weights
                : Collections.nCopies(teachers.size(), teachers.isEmpty() ? 0.0 : 1.0 / teachers.size());
        return new Chain(names, settings, Kind.ENSEMBLE, w);
    }

    /** Deep mutual learning of {@code students}, each distilled from the others' current predictions. */
    public static Chain mutual(List<String> students, DistillationSettings settings) {
        return new Chain(students, settings, Kind.MUTUAL, List.of());
    }

    /**
     * A born-again chain (Furlanello et al. 2018, "Born-Again Neural Networks"): {@code model} →
     * {@code generation(model, 1)} → ... → {@code generation(model, generations)}, each generation of
     * the first model's architecture and training, distilled from the one before. The first model's own
     * rules (declared, its generations' names free) are {@link ChainRules#bornAgain}'s.
     *
     * @throws dev.distill.core.SettingException at {@code generations}, outside 1..{@link #MAX_GENERATIONS}
     */
    public static Chain bornAgain(String model, int generations, DistillationSettings settings) {
        if (generations < 1 || generations > MAX_GENERATIONS) {
            throw new dev.distill.core.SettingException("generations", "generations must be between 1 and "
                    + MAX_GENERATIONS + ", found " + generations);
        }
        List<String> names = new ArrayList<>(List.of(model));
        for (int g = 1; g <= generations; g++) {
            names.add(generation(model, g));
        }
        return new Chain(names, settings);
    }

    /** The name of a born-again chain's {@code g}-th generation of {@code model}. */
    public static String generation(String model, int g) {
        return model + "_gen" + g;
    }

    /** The models trained by distillation: all but the first of a sequence, an ensemble's student, every mutual student. */
    public List<String> distilled() {
        return switch (kind) {
            case SEQUENCE -> models.subList(1, models.size());
            case ENSEMBLE -> models.subList(models.size() - 1, models.size());
            case MUTUAL -> models;
        };
    }

    /** The models the chain ends in (what later stages compress): its last model, or every mutual student. */
    public List<String> finalStudents() {
        return kind == Kind.MUTUAL ? models : models.subList(models.size() - 1, models.size());
    }

    /** An ensemble's weights as an array, in the order of its teachers. */
    double[] weightArray() {
        return weights.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static void checkEnsemble(List<String> teachers, List<Double> weights) {
        if (teachers.size() < 2) {
            throw new IllegalArgumentException("an ensemble needs at least two teachers, found " + teachers.size()
                    + "; for one teacher write a chain [teacher, student]");
        }
        if (weights.size() != teachers.size()) {
            throw new IllegalArgumentException(weights.size() + " weights for " + teachers.size() + " teachers ("
                    + String.join(", ", teachers) + "): give one weight per teacher, or none for equal weights");
        }
        double sum = 0;
        for (double w : weights) {
            if (!(w >= 0) || Double.isInfinite(w)) {
                throw new IllegalArgumentException("ensemble weights must be non-negative numbers, found " + w);
            }
            sum += w;
        }
        if (Math.abs(sum - 1) > WEIGHT_SUM_TOLERANCE) {
            throw new IllegalArgumentException("ensemble weights must sum to 1 (they weigh the teachers' probabilities),"
                    + " found " + weights + " summing to " + sum + "; leave them out for equal weights");
        }
    }
}
