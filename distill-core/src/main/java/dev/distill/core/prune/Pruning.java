package dev.distill.core.prune;

import dev.distill.core.data.LabeledData;
import dev.distill.core.eval.Accuracy;
import dev.distill.core.train.FineTuning;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.ModelSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * A pruning stage from a trained model to a pruned, fine-tuned one: one shot, gradual (Zhu &amp;
 * Gupta during fine-tuning) or iterative rounds, magnitude or structured. The input network is never
 * changed: every candidate is a new network from {@code build}, which also decides the fine-tuning
 * loss (distillation from the model's teacher, or hard labels) and gives a fresh optimizer
 * ({@link FineTuning}).
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
    private final FineTuning tuning;
    private final LabeledData validation;

    /** @param tuning how every candidate is built and fine-tuned */
    public Pruning(PruneSettings settings, FineTuning tuning) {
        this.settings = settings;
        this.tuning = tuning;
        this.validation = tuning.validation();
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
                    settings.layerSparsity(), settings.norm(), tuning.build());
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
                long batch = tuning.spec().batchSize();
                long steps = (tuning.features().rows() + batch - 1) / batch;
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
        return tuning.copy(net, spec);
    }

    private void fit(MultiLayerNetwork net, int epochs, MaskKeeper keeper, boolean keepBestEpoch) {
        tuning.fit(net, epochs, keeper, keepBestEpoch);
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
