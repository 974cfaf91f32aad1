package dev.distill.core.prune;

import dev.distill.core.data.LabeledData;
import dev.distill.core.eval.Accuracy;
import dev.distill.core.train.Trainer;
import dev.distill.core.train.TrainingListener;
import dev.distill.core.train.TrainingSpec;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.ModelSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A pruning stage from a trained model to a pruned, fine-tuned one: one shot, gradual (Zhu &amp;
 * Gupta during fine-tuning) or iterative rounds, magnitude or structured. The input network is never
 * changed: every candidate is a new network from {@code build}, which also decides the fine-tuning
 * loss (distillation from the model's teacher, or hard labels) and gives a fresh optimizer.
 */
public final class Pruning {

    /** One prune → fine-tune round: validation accuracy right after pruning and after fine-tuning. */
    public record Round(int round, double targetSparsity, double sparsity, double validationAfterPruning,
            double validationAfterFineTuning, boolean kept) {
    }

    /**
     * The pruned model. {@code sparsity} is the fraction of the prunable weights that are zero
     * (magnitude) or were removed (structured); {@code layerSparsity} the same per layer name.
     */
    public record Outcome(MultiLayerNetwork net, ModelSpec spec, double sparsity, Map<String, Double> layerSparsity,
            double validationBefore, List<Round> rounds, String stopped, double seconds) {
    }

    private final PruneSettings settings;
    private final Function<ModelSpec, MultiLayerNetwork> build;
    private final TrainingSpec fineTune;
    private final INDArray features;
    private final INDArray targets;
    private final LabeledData validation;
    private final long seed;
    private final List<TrainingListener> listeners;

    /**
     * @param build      a new network for a spec, with the fine-tuning loss and a fresh updater
     * @param fineTune   batch size, optimizer and learning rate of fine-tuning (its epochs are ignored)
     * @param targets    training targets as {@code build}'s loss expects them
     * @param listeners  progress of each fine-tuning run
     */
    public Pruning(PruneSettings settings, Function<ModelSpec, MultiLayerNetwork> build, TrainingSpec fineTune,
            INDArray features, INDArray targets, LabeledData validation, long seed, List<TrainingListener> listeners) {
        this.settings = settings;
        this.build = build;
        this.fineTune = fineTune;
        this.features = features;
        this.targets = targets;
        this.validation = validation;
        this.seed = seed;
        this.listeners = List.copyOf(listeners);
    }

    public Outcome run(MultiLayerNetwork model, ModelSpec spec, InputShape input) {
        long start = System.nanoTime();
        MultiLayerNetwork net = copy(model, spec);
        double before = Accuracy.of(net, validation);
        List<Round> rounds = new ArrayList<>();
        String stopped = null;
        ModelSpec outSpec = spec;
        List<Prunable> tensors = Prunable.of(net, settings.includeBiases(), settings.includeOutput());
        if (settings.method() == PruneSettings.Method.STRUCTURED) {
            StructuredPruner.Result r = StructuredPruner.prune(net, spec, input, settings.sparsity(),
                    settings.layerSparsity(), settings.norm(), build);
            net = r.net();
            outSpec = r.spec();
            Map<String, Double> layers = removed(model, net);
            double sparsity = layers.remove("*");
            double pruned = Accuracy.of(net, validation);
            fit(net, settings.fineTuneEpochs(), null, true);
            rounds.add(new Round(1, settings.sparsity(), sparsity, pruned, Accuracy.of(net, validation), true));
            return new Outcome(net, outSpec, sparsity, layers, before, rounds, null, seconds(start));
        }
        switch (settings.schedule()) {
            case ONE_SHOT -> {
                PruningMasks masks = MagnitudePruner.masks(net, tensors, settings.scope(), settings.sparsity(),
                        settings.layerSparsity());
                masks.applyTo(net);
                double pruned = Accuracy.of(net, validation);
                fit(net, settings.fineTuneEpochs(), new MaskKeeper(net, masks), true);
                rounds.add(new Round(1, settings.sparsity(), masks.sparsity(), pruned, Accuracy.of(net, validation),
                        true));
            }
            case GRADUAL -> {
                long steps = (features.rows() + fineTune.batchSize() - 1) / fineTune.batchSize();
                PruningSchedule schedule = new PruningSchedule(settings.initialSparsity(), settings.sparsity(),
                        settings.startEpoch() * steps, settings.endEpoch() * steps, settings.updateEvery());
                MaskKeeper keeper = new MaskKeeper(net, PruningMasks.fromZeros(net, tensors), schedule,
                        settings.scope());
                // while the sparsity still rises, an earlier epoch is not a pruned model: keep the last
                fit(net, settings.endEpoch(), keeper, false);
                double pruned = Accuracy.of(net, validation);
                fit(net, settings.fineTuneEpochs() - settings.endEpoch(), new MaskKeeper(net, keeper.masks()), true);
                rounds.add(new Round(1, settings.sparsity(), keeper.masks().sparsity(), pruned,
                        Accuracy.of(net, validation), true));
            }
            case ITERATIVE -> {
                PruningMasks masks = PruningMasks.fromZeros(net, tensors);
                for (int r = 1; r <= settings.rounds(); r++) {
                    MultiLayerNetwork candidate = copy(net, spec);
                    Map<String, Double> perLayer = new LinkedHashMap<>();
                    int round = r;
                    settings.layerSparsity().forEach((k, v) -> perLayer.put(k, settings.sparsityAfterRound(v, round)));
                    double target = settings.sparsityAfterRound(settings.sparsity(), r);
                    PruningMasks next = masks.and(MagnitudePruner.masks(candidate, tensors, settings.scope(), target,
                            perLayer));
                    next.applyTo(candidate);
                    double pruned = Accuracy.of(candidate, validation);
                    fit(candidate, settings.fineTuneEpochs(), new MaskKeeper(candidate, next), true);
                    double tuned = Accuracy.of(candidate, validation);
                    boolean kept = settings.maxAccuracyDrop() == null || before - tuned <= settings.maxAccuracyDrop() + 1e-12;
                    rounds.add(new Round(r, target, next.sparsity(), pruned, tuned, kept));
                    if (!kept) {
                        stopped = String.format(java.util.Locale.ROOT,
                                "round %d: validation accuracy %.4f is %.2f points below the unpruned %.4f "
                                        + "(max_accuracy_drop %.2f points); kept round %d", r, tuned,
                                100 * (before - tuned), before, 100 * settings.maxAccuracyDrop(), r - 1);
                        break;
                    }
                    net = candidate;
                    masks = next;
                }
            }
            default -> throw new IllegalStateException();
        }
        PruningMasks zeros = PruningMasks.fromZeros(net, tensors);
        return new Outcome(net, outSpec, zeros.sparsity(), zeros.layerSparsity(), before, rounds, stopped,
                seconds(start));
    }

    private MultiLayerNetwork copy(MultiLayerNetwork net, ModelSpec spec) {
        MultiLayerNetwork copy = build.apply(spec);
        copy.setParams(net.params().dup());
        return copy;
    }

    private void fit(MultiLayerNetwork net, int epochs, MaskKeeper keeper, boolean keepBestEpoch) {
        if (epochs < 1) {
            return;
        }
        List<TrainingListener> all = new ArrayList<>(listeners);
        if (keeper != null) {
            all.add(0, keeper);
        }
        TrainingSpec spec = new TrainingSpec(epochs, fineTune.batchSize(), fineTune.optimizer(),
                fineTune.learningRate(), fineTune.schedule(), fineTune.weightDecay());
        LabeledData check = keepBestEpoch ? validation : validation.subset(new int[0]);
        new Trainer(spec, all).fit(net, features, targets, check, seed);
    }

    /**
     * Fraction of the weights (not biases) of every weighted layer that structured pruning removed,
     * per layer name, and over all of them under the key {@code "*"}.
     */
    private static Map<String, Double> removed(MultiLayerNetwork before, MultiLayerNetwork after) {
        Map<String, Double> layers = new LinkedHashMap<>();
        long total = 0;
        long kept = 0;
        List<Prunable> weights = Prunable.of(before, false, true);
        for (Prunable t : weights) {
            long n = before.getParam(t.key()).length();
            long m = after.getParam(t.key()).length();
            layers.merge(t.layerName(), 1.0 - (double) m / n, (a, b) -> a);
            total += n;
            kept += m;
        }
        Map<String, Double> all = new LinkedHashMap<>();
        all.put("*", total == 0 ? 0 : 1.0 - (double) kept / total);
        all.putAll(layers);
        return all;
    }

    private static double seconds(long start) {
        return (System.nanoTime() - start) / 1e9;
    }
}
