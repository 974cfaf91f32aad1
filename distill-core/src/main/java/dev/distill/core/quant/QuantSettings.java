package dev.distill.core.quant;

import dev.distill.core.SettingException;
import java.util.Objects;

/**
 * One quantization stage as configured. Immutable; checked when built, with messages that start with
 * the config key at fault.
 *
 * @param bits           bits per weight: 2..8 for int8 (8 unless asked) and k-means (k = 2^bits), 1 for binary
 * @param perChannel     one scale per output channel (dense: output unit, conv: filter) instead of one per tensor
 * @param symmetric      linear: zero point 0 and a range symmetric about 0; else min-max with a zero point
 * @param calibration    how activation ranges of the integer path are taken from training batches
 * @param percentile     the percentile kept by {@link Calibration#PERCENTILE} (e.g. 99.99)
 * @param calibrationBatches training batches the activation ranges are measured on
 * @param init           k-means: first centroids spread linearly over [min, max] (Deep Compression) or k-means++
 * @param fineTuneEpochs epochs of fine-tuning after the post-training step (k-means: centroids; binary and
 *                       qat: straight-through); 0 for none
 * @param qat            int8: quantization-aware fine-tuning (fake-quantized weights in the forward pass)
 * @param huffman        Huffman-code the stored codes and sparse indices where that is smaller
 */
public record QuantSettings(Scheme scheme, int bits, boolean perChannel, boolean symmetric, Calibration calibration,
        double percentile, int calibrationBatches, Init init, int fineTuneEpochs, boolean qat, boolean huffman) {

    /** How weights are represented. */
    public enum Scheme { INT8, KMEANS, BINARY }

    /** How activation ranges are measured. */
    public enum Calibration { MINMAX, PERCENTILE }

    /** First centroids of k-means. */
    public enum Init { LINEAR, KMEANS_PLUS_PLUS }

    public QuantSettings {
        Objects.requireNonNull(scheme, "scheme");
        Objects.requireNonNull(calibration, "calibration");
        Objects.requireNonNull(init, "init");
        if (scheme == Scheme.BINARY) {
            if (bits != 1) {
                throw new SettingException("bits", "bits must be 1 for scheme binary (sign times a scale), got " + bits);
            }
        } else if (bits < 2 || bits > 8) {
            throw new SettingException("bits", "bits must be in 2..8 for scheme " + scheme.name().toLowerCase(
                    java.util.Locale.ROOT) + " (1 is scheme binary), got " + bits);
        }
        if (!(percentile > 50 && percentile <= 100)) {
            throw new SettingException("calibration.percentile", "percentile must be in (50, 100], e.g. 99.99, got " + percentile);
        }
        if (calibrationBatches < 1) {
            throw new SettingException("calibration.batches", "batches must be a positive integer, got " + calibrationBatches);
        }
        if (fineTuneEpochs < 0) {
            throw new SettingException("fine_tune_epochs", "fine_tune_epochs must be 0 or more, got " + fineTuneEpochs);
        }
        if (qat && scheme != Scheme.INT8) {
            throw new SettingException("qat", "qat is for scheme int8 (k-means tunes its centroids, binary is "
                    + "always fine-tuned straight-through)");
        }
    }

    /** Levels of a linear code: 2^bits. */
    public int levels() {
        return 1 << bits;
    }
}
