package dev.distill.runner.data;

import dev.distill.core.data.LabeledData;
import dev.distill.runtime.Preprocessing;
import java.util.Locale;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.preprocessor.stats.DistributionStats;
import org.nd4j.linalg.dataset.api.preprocessor.stats.MinMaxStats;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Per-feature normalization of a data set ({@code data.normalize}), fitted on the training split only:
 * each feature becomes {@code x × scale + shift}, i.e. {@code (x − mean) / std} (standardize) or
 * {@code (x − min) / (max − min)} (minmax). The statistics are ND4J's normalizer statistics
 * ({@link DistributionStats}, {@link MinMaxStats}, what {@code NormalizerStandardize} and
 * {@code NormalizerMinMaxScaler} fit), gathered batch by batch in double precision: float32 whole-array
 * reductions drift. A packed model carries the same pairs ({@link #after}), so an app passes raw features.
 *
 * @param scales one factor per feature
 * @param shifts one offset per feature, added after the factor
 */
public record FeatureNormalizer(Method method, double[] scales, double[] shifts) {

    /** How a feature is normalized. */
    public enum Method {
        /** Zero mean and unit standard deviation on the training split. */
        STANDARDIZE,
        /** The training split's range mapped to [0, 1]. */
        MINMAX,
        /** Features as the files hold them (times the source's scale). */
        NONE;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Feature ranges further apart than this, with nothing normalizing them, earn a warning. */
    public static final double UNEVEN_SCALES = 1000;

    private static final int BATCH = 4096;

    public FeatureNormalizer {
        scales = scales.clone();
        shifts = shifts.clone();
    }

    /** Fits {@code method} on {@code train} (the training split, never validation or test examples). */
    public static FeatureNormalizer fit(Method method, INDArray train) {
        if (method == Method.NONE) {
            throw new IllegalArgumentException("nothing to fit for normalize: none");
        }
        // each feature maps (x - centre) / spread: mean and standard deviation, or minimum and range
        double[] centre;
        double[] spread;
        if (method == Method.STANDARDIZE) {
            DistributionStats.Builder stats = new DistributionStats.Builder();
            forEachBatch(train, batch -> stats.add(batch, null));
            DistributionStats s = stats.build();
            centre = s.getMean().toDoubleVector();
            spread = s.getStd().toDoubleVector();
        } else {
            MinMaxStats.Builder stats = new MinMaxStats.Builder();
            forEachBatch(train, batch -> stats.add(batch, null));
            MinMaxStats s = stats.build();
            centre = s.getLower().toDoubleVector();
            spread = s.getRange().toDoubleVector();
        }
        double[] scales = new double[centre.length];
        double[] shifts = new double[centre.length];
        for (int i = 0; i < centre.length; i++) {
            // a constant feature is centred and left unscaled rather than divided by zero
            scales[i] = spread[i] > 1e-12 ? 1 / spread[i] : 1;
            shifts[i] = -centre[i] * scales[i];
        }
        return new FeatureNormalizer(method, scales, shifts);
    }

    /** {@code data} with every feature normalized (a new array; {@code data} is not changed). */
    public LabeledData apply(LabeledData data) {
        INDArray f = data.features();
        INDArray scale = Nd4j.createFromArray(scales).castTo(f.dataType()).reshape(1, scales.length);
        INDArray shift = Nd4j.createFromArray(shifts).castTo(f.dataType()).reshape(1, shifts.length);
        return new LabeledData(f.mulRowVector(scale).addiRowVector(shift), data.labels(), data.numClasses());
    }

    /** The preprocessing of a model that leaves the framework: the source's, then these pairs. */
    public Preprocessing after(Preprocessing source) {
        float[] s = new float[scales.length];
        float[] o = new float[shifts.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = (float) scales[i];
            o[i] = (float) shifts[i];
        }
        return new Preprocessing(source.scale(), source.shift(), s, o);
    }

    /**
     * One line when the training features' ranges differ by more than {@link #UNEVEN_SCALES} times (and
     * nothing normalizes them): a network trained on them learns mostly from the widest; else null.
     */
    public static String unevenScales(INDArray train) {
        // min and max are exact in float32: no drift to fear, no double copy of a large image set
        double[] min = train.min(0).toDoubleVector();
        double[] max = train.max(0).toDoubleVector();
        int widest = -1;
        int narrowest = -1;
        for (int i = 0; i < min.length; i++) {
            double range = max[i] - min[i];
            if (range > 0 && (widest < 0 || range > max[widest] - min[widest])) {
                widest = i;
            }
            if (range > 0 && (narrowest < 0 || range < max[narrowest] - min[narrowest])) {
                narrowest = i;
            }
        }
        if (widest < 0) {
            return null;
        }
        double ratio = (max[widest] - min[widest]) / (max[narrowest] - min[narrowest]);
        return ratio <= UNEVEN_SCALES ? null : String.format(Locale.ROOT, "warning: the features' ranges differ by "
                + "%,.0fx (feature %d spans %.4g, feature %d spans %.4g) and nothing normalizes them: set "
                + "data.normalize: standardize (or minmax)", ratio, widest, max[widest] - min[widest], narrowest,
                max[narrowest] - min[narrowest]);
    }

    private static void forEachBatch(INDArray features, java.util.function.Consumer<INDArray> use) {
        long rows = features.rows();
        for (long from = 0; from < rows; from += BATCH) {
            use.accept(features.get(NDArrayIndex.interval(from, Math.min(rows, from + BATCH)), NDArrayIndex.all())
                    .castTo(DataType.DOUBLE));
        }
    }
}
