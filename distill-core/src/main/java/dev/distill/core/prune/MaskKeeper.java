package dev.distill.core.prune;

import dev.distill.core.train.TrainingListener;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * Keeps pruned weights at exactly zero while a network trains: the masks are re-applied after every
 * optimizer step, so whatever Adam's moment estimates do to a pruned weight is undone before the
 * next forward pass. With a {@link PruningSchedule}, the masks are also recomputed every Δt steps
 * (magnitude pruning to the schedule's sparsity; pruned weights stay pruned).
 */
public final class MaskKeeper implements TrainingListener {

    private final MultiLayerNetwork net;
    private final List<Prunable> tensors;
    private final MagnitudePruner.Scope scope;
    private final PruningSchedule schedule;
    private PruningMasks masks;
    private long step;

    /** Fixed masks, applied at once. */
    public MaskKeeper(MultiLayerNetwork net, PruningMasks masks) {
        this(net, masks, null, null);
    }

    /** Gradual pruning: the masks start from {@code masks} and follow {@code schedule}, step 0 being now. */
    public MaskKeeper(MultiLayerNetwork net, PruningMasks masks, PruningSchedule schedule, MagnitudePruner.Scope scope) {
        this.net = net;
        this.tensors = masks.tensors();
        this.masks = masks;
        this.schedule = schedule;
        this.scope = scope;
        if (schedule != null && schedule.updatesAt(0)) {
            update(0);
        }
        masks.applyTo(net);
    }

    @Override
    public void batchDone(long examplesDone, double batchLoss) {
        step++;
        if (schedule != null && schedule.updatesAt(step)) {
            update(step);
        }
        masks.applyTo(net);
    }

    private void update(long t) {
        // the step just taken moved pruned weights: zero them first so that they rank as pruned
        masks.applyTo(net);
        masks = masks.and(MagnitudePruner.masks(net, tensors, scope, schedule.sparsityAt(t)));
    }

    public PruningMasks masks() {
        return masks;
    }

    public long steps() {
        return step;
    }
}
