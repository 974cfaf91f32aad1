package dev.distill.core.chain;

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
 * @param epochs epochs of the first stage; 0: as many as the student's own training
 */
public record Hint(int studentLayer, int teacherLayer, int epochs) {

    /** @throws IllegalArgumentException naming the value out of range */
    public Hint {
        if (studentLayer < 0) {
            throw new IllegalArgumentException("student_layer must be a layer index from 0, found " + studentLayer);
        }
        if (teacherLayer < 0) {
            throw new IllegalArgumentException("teacher_layer must be a layer index from 0, found " + teacherLayer);
        }
        if (epochs < 0) {
            throw new IllegalArgumentException("hint epochs must be 0 (the student's) or more, found " + epochs);
        }
    }

    /** The first stage's epochs for a student trained {@code studentEpochs} epochs. */
    public int epochsFor(int studentEpochs) {
        return epochs == 0 ? studentEpochs : epochs;
    }

    /** For plans and logs: {@code hint student layer 0 -> teacher layer 4}. */
    public String describe() {
        return String.format(Locale.ROOT, "hint student layer %d -> teacher layer %d%s", studentLayer, teacherLayer,
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
