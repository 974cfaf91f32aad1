package dev.distill.core.chain;

import dev.distill.core.loss.DecoupledKdLoss;
import dev.distill.core.loss.DistillationLoss;
import java.util.Locale;
import org.nd4j.linalg.lossfunctions.ILossFunction;

/**
 * The distillation loss of a link, by method:
 * <ul>
 * <li>{@code kd} (Hinton et al. 2015): {@code softWeight · T² · KL(teacher_T ‖ student_T) + hardWeight ·
 * CE(labels, student)}. Defaults T=1, soft 0.5, hard 0.5: every sweep on validation in
 * docs/distillation-defaults.md chose them, on every student tried; the textbook T=4, soft 0.9, hard 0.1
 * made the protocol's MLP student worse than training it alone.
 * <li>{@code dkd} (decoupled KD, Zhao et al. 2022; {@link DecoupledKdLoss}): {@code T² · (alpha · TCKD +
 * beta · NCKD) + hardWeight · CE}. Defaults from the paper: T=4, alpha 1, beta 8, hard 1.
 * </ul>
 * Either may carry a FitNets {@link Hint} (null: none), trained before the link's loss.
 * Fields a method does not use are NaN. Checked once, here, by building the loss.
 */
public record DistillationSettings(Method method, double temperature, double softWeight, double hardWeight,
        double alpha, double beta, Hint hint) {

    /** The distillation methods, by the name a config gives them. */
    public enum Method {
        KD, DKD;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** The method a config names, or null for an unknown name. */
        public static Method byLabel(String label) {
            for (Method m : values()) {
                if (m.label().equals(label)) {
                    return m;
                }
            }
            return null;
        }

        /** The one line for a name that is no method. */
        public static String unknown(String label) {
            return switch (label) {
                case "ensemble" -> "'ensemble' is a kind of chain, not a loss: chains: [{ensemble: [teacher, assistant], "
                        + "weights: [0.7, 0.3], student: student}]; its distillation block picks kd or dkd";
                case "mutual" -> "'mutual' is a kind of chain, not a loss: chains: [{mutual: [student_a, student_b]}]; "
                        + "its distillation block picks kd or dkd";
                case "born_again" -> "'born_again' is a kind of chain, not a loss: chains: [{born_again: student, "
                        + "generations: 2}]";
                default -> "unknown distillation method '" + label + "'; known: kd, dkd (ensemble, mutual and born_again "
                        + "are kinds of chain)";
            };
        }

        /** The method's defaults: the framework's for kd, the paper's for dkd. */
        public DistillationSettings defaults() {
            return this == KD ? DEFAULTS : DKD_DEFAULTS;
        }
    }

    public static final DistillationSettings DEFAULTS = kd(1.0, 0.5, 0.5);
    /** Decoupled KD's defaults, from its paper. */
    public static final DistillationSettings DKD_DEFAULTS = dkd(4.0, 1.0, 8.0, 1.0);

    /** @throws IllegalArgumentException naming what is out of range (the loss's own check) */
    public DistillationSettings {
        loss(method, temperature, softWeight, hardWeight, alpha, beta);
    }

    /** Without a hint. */
    public DistillationSettings(Method method, double temperature, double softWeight, double hardWeight, double alpha,
            double beta) {
        this(method, temperature, softWeight, hardWeight, alpha, beta, null);
    }

    /** The same settings with a FitNets hint first (null: none). */
    public DistillationSettings withHint(Hint hint) {
        return new DistillationSettings(method, temperature, softWeight, hardWeight, alpha, beta, hint);
    }

    /** Vanilla KD. */
    public DistillationSettings(double temperature, double softWeight, double hardWeight) {
        this(Method.KD, temperature, softWeight, hardWeight, Double.NaN, Double.NaN);
    }

    public static DistillationSettings kd(double temperature, double softWeight, double hardWeight) {
        return new DistillationSettings(temperature, softWeight, hardWeight);
    }

    public static DistillationSettings dkd(double temperature, double alpha, double beta, double hardWeight) {
        return new DistillationSettings(Method.DKD, temperature, Double.NaN, hardWeight, alpha, beta);
    }

    /** The same method at other settings (those the method has no use for are ignored): what a sweep point changes. */
    public DistillationSettings with(double temperature, double softWeight, double hardWeight, double alpha,
            double beta) {
        return (method == Method.KD ? kd(temperature, softWeight, hardWeight)
                : dkd(temperature, alpha, beta, hardWeight)).withHint(hint);
    }

    /** The loss DL4J's output layer trains with. */
    public ILossFunction loss() {
        return loss(method, temperature, softWeight, hardWeight, alpha, beta);
    }

    /**
     * Where a block (or sweep point) of {@code method} starts from when these are the enclosing settings:
     * these when the method is the same, else that method's defaults.
     */
    public DistillationSettings startingPoint(Method method) {
        return method == this.method ? this : method.defaults();
    }

    /** DKD's alpha for reports: null where the method has none. */
    public Double alphaOrNull() {
        return Double.isNaN(alpha) ? null : alpha;
    }

    /** DKD's beta for reports: null where the method has none. */
    public Double betaOrNull() {
        return Double.isNaN(beta) ? null : beta;
    }

    /** The soft weight for reports: null where the method has none. */
    public Double softWeightOrNull() {
        return Double.isNaN(softWeight) ? null : softWeight;
    }

    /** One line for the plan and logs, e.g. {@code T=4, soft 0.9, hard 0.1} or {@code dkd T=4, alpha 1, beta 8, hard 1}. */
    public String describe() {
        return (hint == null ? "" : hint.describe() + (hint.stage() == Hint.Stage.JOINT ? " + " : ", then "))
                + (method == Method.KD
                ? String.format(Locale.ROOT, "T=%s, soft %s, hard %s", temperature, softWeight, hardWeight)
                : String.format(Locale.ROOT, "dkd T=%s, alpha %s, beta %s, hard %s", temperature, alpha, beta, hardWeight));
    }

    private static ILossFunction loss(Method method, double temperature, double softWeight, double hardWeight,
            double alpha, double beta) {
        return switch (method) {
            case KD -> new DistillationLoss(temperature, softWeight, hardWeight);
            case DKD -> new DecoupledKdLoss(temperature, alpha, beta, hardWeight);
        };
    }
}
