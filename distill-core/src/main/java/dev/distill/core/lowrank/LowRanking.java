package dev.distill.core.lowrank;

import dev.distill.core.data.LabeledData;
import dev.distill.core.eval.Accuracy;
import dev.distill.core.train.FineTuning;
import dev.distill.models.spec.ModelSpec;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * A low-rank stage from a trained model to a factorized, fine-tuned one: the chosen layers, from
 * input to output, each replaced by its truncated-SVD pair ({@link LowRankFactorizer}) and then
 * fine-tuned (keeping the best validation epoch) before the next is factorized, so every later
 * factorization starts from a network that has recovered from the earlier ones. The input network
 * is never changed; {@link FineTuning#build} decides the fine-tuning loss and gives a fresh optimizer.
 */
public final class LowRanking {

    /**
     * One layer of the input model. {@code reconstructionError} is {@code ‖W − W_r‖_F / ‖W‖_F} at the
     * moment it was factorized; {@code paramsFactorized} what its factors cost. A layer whose factors
     * would not be smaller is kept as it was ({@code factorized} false, and no accuracies).
     */
    public record LayerOutcome(String layer, int rows, int columns, int rank, int fullRank, double energyKept,
            double reconstructionError, long paramsBefore, long paramsFactorized, boolean factorized,
            Double validationAfterFactorizing, Double validationAfterFineTuning) {

        /** The layer's parameters in the stage's model. */
        public long paramsAfter() {
            return factorized ? paramsFactorized : paramsBefore;
        }
    }

    /** The factorized model, its spec, what happened to each layer, and the time it all took. */
    public record Outcome(MultiLayerNetwork net, ModelSpec spec, List<LayerOutcome> layers, double validationBefore,
            double seconds) {

        public Outcome {
            layers = List.copyOf(layers);
        }
    }

    private final LowRankSettings settings;
    private final FineTuning tuning;

    /** @param tuning how every factorized network is built and fine-tuned */
    public LowRanking(LowRankSettings settings, FineTuning tuning) {
        this.settings = settings;
        this.tuning = tuning;
    }

    public Outcome run(MultiLayerNetwork model, ModelSpec spec) {
        long start = System.nanoTime();
        List<String> known = LowRankFactorizer.layerNames(spec);
        List<String> names = new ArrayList<>(settings.layers().isEmpty() ? known : settings.layers());
        for (String name : names) {
            if (!known.contains(name)) {
                throw new IllegalArgumentException("no layer '" + name + "' to factorize; the model's dense and "
                        + "conv2d layers: " + String.join(", ", known));
            }
        }
        names.sort(Comparator.comparingInt(LowRanking::index));
        MultiLayerNetwork net = tuning.copy(model, spec);
        LabeledData validation = tuning.validation();
        double before = Accuracy.of(net, validation);
        ModelSpec current = spec;
        List<LayerOutcome> outcomes = new ArrayList<>();
        // each factorization so far has put one more layer before the ones still to do
        int inserted = 0;
        for (String name : names) {
            int index = index(name) + inserted;
            LowRankFactorizer.LayerMatrix m = LowRankFactorizer.matrix(net, current, index, settings.conv());
            TruncatedSvd svd = TruncatedSvd.of(m.values());
            int rank = settings.rank(svd, m);
            boolean smaller = m.params(rank) < m.params();
            Double factorized = null;
            Double tuned = null;
            if (smaller) {
                LowRankFactorizer.Result r = LowRankFactorizer.factorize(net, current, index, settings.conv(), svd,
                        rank, tuning.build());
                net = r.net();
                current = r.spec();
                inserted++;
                factorized = Accuracy.of(net, validation);
                tuning.fit(net, settings.fineTuneEpochs(), null, true);
                tuned = Accuracy.of(net, validation);
            }
            outcomes.add(new LayerOutcome(name, m.rows(), m.columns(), rank, svd.fullRank(), svd.energyKept(rank),
                    svd.relativeError(rank), m.params(), m.params(rank), smaller, factorized,
                    tuned));
        }
        return new Outcome(net, current, outcomes, before, (System.nanoTime() - start) / 1e9);
    }

    private static int index(String layerName) {
        return Integer.parseInt(layerName.substring(layerName.lastIndexOf('_') + 1));
    }
}
