package dev.distill.core.lowrank;

import dev.distill.core.SettingException;
import java.util.List;

/**
 * One low-rank stage as configured. Immutable; checked when built, with messages that start with
 * the config key at fault. Exactly one of {@code energy} and {@code paramRatio} is set.
 *
 * @param energy         per layer, the smallest rank keeping this fraction of the squared singular values, in (0, 1]
 * @param paramRatio     per layer, the largest rank whose two layers have at most this fraction of
 *                       the layer's parameters (bias included), in (0, 1)
 * @param layers         names of the layers to factorize ({@code dense_0}); empty for every dense and
 *                       conv2d layer but the output
 * @param conv           how a conv2d layer is split (see {@link LowRankFactorizer})
 * @param fineTuneEpochs epochs of fine-tuning after each layer's factorization
 */
public record LowRankSettings(Double energy, Double paramRatio, List<String> layers, Conv conv, int fineTuneEpochs) {

    /**
     * {@code FILTERS}: a k×k conv with r filters, then a 1×1 conv; {@code SPATIAL}: a k×1 conv with r
     * filters, then a 1×k conv (Jaderberg et al. 2014, scheme 2).
     */
    public enum Conv { FILTERS, SPATIAL }

    public LowRankSettings {
        layers = List.copyOf(layers);
        java.util.Objects.requireNonNull(conv, "conv");
        if ((energy == null) == (paramRatio == null)) {
            throw new SettingException("energy", "energy " + (energy == null
                    ? "or param_ratio is required: the fraction of the squared singular values to keep (0.9) or of "
                            + "each layer's parameters to keep (0.5)"
                    : "and param_ratio both set: choose the rank by one of them"));
        }
        if (energy != null && !(energy > 0 && energy <= 1)) {
            throw new SettingException("energy", "energy must be in (0, 1] (0.9 keeps 90% of the squared singular "
                    + "values), got " + energy);
        }
        if (paramRatio != null && !(paramRatio > 0 && paramRatio < 1)) {
            throw new SettingException("param_ratio", "param_ratio must be in (0, 1) (0.5 keeps half of each layer's "
                    + "parameters), got " + paramRatio);
        }
        if (fineTuneEpochs < 0) {
            throw new SettingException("fine_tune_epochs", "fine_tune_epochs must be 0 or more, got " + fineTuneEpochs);
        }
    }

    /** The rank of one layer from its SVD and its matrix, by whichever rule is set. */
    public int rank(TruncatedSvd svd, LowRankFactorizer.LayerMatrix matrix) {
        return energy != null ? svd.rankForEnergy(energy) : matrix.rankForParams(paramRatio);
    }
}
