package dev.distill.core.chain;

import dev.distill.core.train.TeacherLogits;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Each teacher's logits on the training set, computed once and shared by all its students (per
 * batch, the teacher would cost a forward pass every step of every epoch); and each teacher's
 * per-batch form for augmented training, compiled once. A {@link Store} keeps the logits between
 * runs (the CLI's run directory); {@link Store#NONE} keeps them in memory only.
 */
public final class TeacherLogitsCache {

    /** Where computed logits outlive the process. */
    public interface Store {
        /** Keeps nothing. */
        Store NONE = new Store() {
            @Override
            public INDArray read(String teacherId) {
                return null;
            }

            @Override
            public void write(String teacherId, INDArray logits, double seconds) {
            }
        };

        /** The logits stored for the teacher, or null when none are (or they cannot be read). */
        INDArray read(String teacherId);

        /** Keeps logits just computed in {@code seconds}. */
        void write(String teacherId, INDArray logits, double seconds);
    }

    private final INDArray features;
    private final Function<String, Teacher> teachers;
    private final Store store;
    private final Map<String, INDArray> logits = new HashMap<>();
    private final Map<String, TeacherLogits.Live> live = new HashMap<>();
    private final Map<String, INDArray> hints = new HashMap<>();

    /**
     * @param features the training inputs every student of these teachers is trained on
     * @param teachers the teacher of each id, asked for once it is needed (a finished chain node)
     */
    public TeacherLogitsCache(INDArray features, Function<String, Teacher> teachers, Store store) {
        this.features = features;
        this.teachers = teachers;
        this.store = store;
    }

    /** The teacher's logits {@code [n, classes]} on the training inputs: stored, or computed now and stored. */
    public INDArray logits(String teacherId) {
        return logits.computeIfAbsent(teacherId, id -> {
            INDArray stored = store.read(id);
            if (stored != null) {
                return stored;
            }
            long start = System.nanoTime();
            INDArray computed = teachers.apply(id).logits(features);
            store.write(id, computed, (System.nanoTime() - start) / 1e9);
            return computed;
        });
    }

    /**
     * What {@code student} is distilled from, as one teacher's logits on the training inputs: its teacher's, or
     * its ensemble's (or mutual peers') softened probabilities averaged at the link's temperature
     * ({@link EnsembleTargets}).
     */
    public INDArray logits(Plan.Node student) {
        Plan.Teachers t = student.teachers();
        if (t.kind() == Chain.Kind.SEQUENCE) {
            return logits(student.parentId());
        }
        return EnsembleTargets.logits(t.ids().stream().map(this::logits).toList(), t.weightArray(),
                student.distillation().temperature());
    }

    /** As {@link #logits(Plan.Node)}, batch by batch (augmented training). */
    public TeacherLogits.Live live(Plan.Node student) {
        Plan.Teachers t = student.teachers();
        if (t.kind() == Chain.Kind.SEQUENCE) {
            return live(student.parentId());
        }
        java.util.List<TeacherLogits.Live> members = t.ids().stream().map(this::live).toList();
        double[] weights = t.weightArray();
        double temperature = student.distillation().temperature();
        java.util.function.UnaryOperator<INDArray> ensemble = x -> EnsembleTargets.logits(
                members.stream().map(m -> m.logits(x)).toList(), weights, temperature);
        String how = "ensemble of " + String.join(", ", t.ids());
        // the members keep a copy per calling thread when they can: the ensemble then needs none of its own
        return members.stream().allMatch(TeacherLogits.Live::concurrent)
                ? TeacherLogits.Live.concurrent(how, ensemble, () -> ensemble)
                : new TeacherLogits.Live(how, ensemble);
    }

    /** The teacher's pooled output at {@code layer} on the training inputs (a FitNets hint), computed once. */
    public INDArray features(String teacherId, int layer) {
        return hints.computeIfAbsent(teacherId + "#" + layer, k -> teachers.apply(teacherId).features(layer, features));
    }

    /** The teacher's pooled output at {@code layer} for {@code inputs} (a batch, for a joint hint); not cached. */
    public INDArray features(String teacherId, int layer, INDArray inputs) {
        return teachers.apply(teacherId).features(layer, inputs);
    }

    /** The teacher batch by batch (augmented training), compiled once. */
    public TeacherLogits.Live live(String teacherId) {
        return live.computeIfAbsent(teacherId, id -> teachers.apply(id).live());
    }
}
