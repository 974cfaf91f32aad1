package dev.distill.runner.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.data.LabeledData;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.preprocessor.NormalizerMinMaxScaler;
import org.nd4j.linalg.dataset.api.preprocessor.NormalizerStandardize;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The per-feature normalizer gives what ND4J's NormalizerStandardize and NormalizerMinMaxScaler give when
 * fitted on the same training features, leaves a constant feature finite, and its uneven-scale warning
 * fires above 1,000x only.
 */
class FeatureNormalizerTest {

    private static INDArray features(long seed, int rows, double... scales) {
        Random r = new Random(seed);
        float[][] x = new float[rows][scales.length];
        for (int i = 0; i < rows; i++) {
            for (int f = 0; f < scales.length; f++) {
                x[i][f] = (float) ((3 + r.nextGaussian()) * scales[f]);
            }
        }
        return Nd4j.createFromArray(x);
    }

    @Test
    void standardizeAndMinmaxAgreeWithNd4jsNormalizers() {
        INDArray train = features(1, 10_000, 0.001, 1, 5000);
        INDArray test = features(2, 500, 0.001, 1, 5000);
        for (FeatureNormalizer.Method method : new FeatureNormalizer.Method[] {FeatureNormalizer.Method.STANDARDIZE,
            FeatureNormalizer.Method.MINMAX}) {
            FeatureNormalizer ours = FeatureNormalizer.fit(method, train);
            org.nd4j.linalg.dataset.api.preprocessor.DataNormalization nd4j =
                    method == FeatureNormalizer.Method.STANDARDIZE ? new NormalizerStandardize()
                            : new NormalizerMinMaxScaler(0, 1);
            nd4j.fit(new DataSet(train.castTo(DataType.DOUBLE), Nd4j.zeros(DataType.DOUBLE, train.rows(), 1)));
            INDArray expected = test.castTo(DataType.DOUBLE).dup();
            nd4j.transform(expected);
            INDArray got = ours.apply(new LabeledData(test, new int[500], 2)).features();
            assertArrayEquals(expected.toFloatMatrix()[7], got.toFloatMatrix()[7], 1e-3f, method.label());
            assertTrue(expected.castTo(DataType.FLOAT).equalsWithEps(got, 1e-3), method.label());
        }
    }

    @Test
    void aConstantFeatureIsCentredNotDividedByZero() {
        INDArray train = Nd4j.createFromArray(new float[][] {{7, 1}, {7, 2}, {7, 3}});
        FeatureNormalizer n = FeatureNormalizer.fit(FeatureNormalizer.Method.STANDARDIZE, train);
        INDArray out = n.apply(new LabeledData(train, new int[3], 2)).features();
        assertEquals(0, out.getDouble(0, 0), 0);
        assertTrue(n.after(dev.distill.runtime.Preprocessing.NONE).perFeature());
    }

    @Test
    void featureRangesMoreThanAThousandTimesApartAreWarnedAbout() {
        assertNull(FeatureNormalizer.unevenScales(features(3, 500, 1, 10, 100)));
        String warning = FeatureNormalizer.unevenScales(features(3, 500, 0.01, 1, 900));
        assertTrue(warning != null && warning.contains("feature 2 spans") && warning.contains("feature 0 spans"),
                String.valueOf(warning));
        // a feature that never varies says nothing about scales
        assertNull(FeatureNormalizer.unevenScales(Nd4j.createFromArray(new float[][] {{0, 1}, {0, 2}})));
    }
}
