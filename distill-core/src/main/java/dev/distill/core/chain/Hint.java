package dev.distill.core.chain;

import dev.distill.core.SettingException;
import dev.distill.models.spec.LayerSpec;
import dev.distill.models.spec.ModelSpec;
import dev.distill.models.spec.NetworkSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A FitNets hint (Romero et al. 2015) on a link: before the link's distillation, the student's layers up to
 * {@code studentLayer} (the guided layer) and a learned linear regressor are trained to predict the teacher's
 * {@code teacherLayer} output (the hint) with {@link dev.distill.core.loss.HintLoss}; the student then trains
 * whole with the link's loss (kd or dkd): the paper's two stages. A conv layer's output is averaged over space
 * first (global average pooling), so conv → conv, dense → dense and conv teacher → MLP student all meet as
 * vectors the regressor bridges. Layers are counted from 0 in the order they are declared.
 *
 * <p>{@link Stage#JOINT} instead adds {@code weight ×} the hint loss to the link's loss in one stage (the
 * regressor trained beside the student), the hint computed on every batch by the teacher.
 *
 * @param epochs epochs of the first stage; 0: as many as the student's own training (two stages only)
 * @param weight the hint loss's weight in the joint stage (1 by default: FitNets has no joint stage to take
 *               one from); unused in two stages
 */
public record Hint(int studentLayer, int teacherLayer, int epochs, Stage stage, double weight) {

    /** How the hint and the link's loss are trained: one after the other (FitNets), or summed. */
    public enum Stage {
        TWO_STAGE, JOINT;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** FitNets' two stages. */
    public Hint(int studentLayer, int teacherLayer, int epochs) {
        this(studentLayer, teacherLayer, epochs, Stage.TWO_STAGE, 1);
    }

    /** @throws dev.distill.core.SettingException at the key of the value out of range, as a hint block writes it */
    public Hint {
        if (studentLayer < 0) {
            throw new SettingException("student_layer", "student_layer must be a layer index from 0, found "
                    + studentLayer);
        }
        if (teacherLayer < 0) {
            throw new SettingException("teacher_layer", "teacher_layer must be a layer index from 0, found "
                    + teacherLayer);
        }
        if (epochs < 0) {
            throw new SettingException("epochs", "hint epochs must be 0 (the student's) or more, found " + epochs);
        }
        java.util.Objects.requireNonNull(stage, "stage");
        if (!(weight >= 0) || Double.isInfinite(weight)) {
            throw new SettingException("weight", "hint weight must be a non-negative number, found " + weight);
        }
        if (stage == Stage.JOINT && epochs != 0) {
            throw new SettingException("epochs", "hint epochs belong to the two-stage hint; a joint hint trains "
                    + "with the link for the student's own epochs");
        }
    }

    /** The first stage's epochs for a student trained {@code studentEpochs} epochs. */
    public int epochsFor(int studentEpochs) {
        return epochs == 0 ? studentEpochs : epochs;
    }

    /** For plans and logs: {@code hint student layer 0 -> teacher layer 4}. */
    public String describe() {
        return stage == Stage.JOINT
                ? String.format(Locale.ROOT, "hint student layer %d -> teacher layer %d (joint, weight %s)", studentLayer,
                        teacherLayer, weight)
                : String.format(Locale.ROOT, "hint student layer %d -> teacher layer %d%s", studentLayer, teacherLayer,
                        epochs == 0 ? "" : " (" + epochs + " epochs)");
    }

    /**
     * Why the hint cannot join these two declared networks, or null: both must be sequential, and each layer
     * must exist and come before the output layer (the output's own targets are the distillation's).
     */
    public String problem(NetworkSpec teacher, NetworkSpec student) {
        String s = problem("student_layer", studentLayer, "student", student);
        return s != null ? s : problem("teacher_layer", teacherLayer, "teacher", teacher);
    }

    private static String problem(String key, int index, String who, NetworkSpec spec) {
        if (!(spec instanceof ModelSpec model)) {
            return "a hint names layers of sequential (layers:) models; the " + who + " is a graph";
        }
        int hidden = model.layers().size() - 1;
        if (index < hidden) {
            return null;
        }
        return key + " " + index + " does not exist: the " + who + "'s layers before its output are 0.."
                + (hidden - 1) + " (" + String.join(", ", names(model.layers().subList(0, hidden))) + ")";
    }

    private static List<String> names(List<LayerSpec> layers) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            names.add(i + " " + layers.get(i).type());
        }
        return names;
    }
}
