package dev.distill.runner.pipeline;

import dev.distill.core.DistillException;
import dev.distill.core.data.LabeledData;
import dev.distill.core.data.Splits;
import dev.distill.runner.config.DataConfig;
import dev.distill.runner.config.DataSource;
import dev.distill.runner.data.CsvReader;
import dev.distill.runner.data.Datasets;
import dev.distill.runner.data.FeatureNormalizer;
import dev.distill.runner.data.IdxReader;

/**
 * The three parts every run uses: training examples, the validation split held out from them (by
 * the experiment's seed), and the test examples (the source's test file, or a split held out with
 * seed 0 so that it does not move with the experiment's seed); all three normalized per feature when the
 * config says so, with statistics of the training part alone.
 *
 * @param preprocessing how raw values of the files become the networks' input (what a packed model records)
 * @param scaleWarning  one line when the features' ranges differ by more than 1,000x and nothing normalizes
 *                      them, else null
 */
public record ExperimentData(String name, LabeledData train, LabeledData validation, LabeledData test,
        dev.distill.runtime.Preprocessing preprocessing, String scaleWarning) {

    /** Data used as it is: no preprocessing recorded, no warning. */
    public ExperimentData(String name, LabeledData train, LabeledData validation, LabeledData test) {
        this(name, train, validation, test, dev.distill.runtime.Preprocessing.NONE, null);
    }

    /** Seed of the test split for sources without a test file; fixed so all runs share one test set. */
    static final long TEST_SPLIT_SEED = 0;

    /** Reads and checks the data a config names (feature count against the input shape, class count). */
    public static ExperimentData load(DataConfig config, long seed) {
        DataSource source = config.source();
        int classes = config.classes();
        LabeledData trainAll;
        LabeledData test;
        String trainFile;
        String testFile;
        if (source instanceof DataSource.Digits d) {
            trainFile = testFile = d.file().toString();
            Splits.Pair parts = Splits.holdOut(Datasets.digits(d.file()), config.testSplit(), TEST_SPLIT_SEED);
            trainAll = parts.first();
            test = parts.second();
            checkClasses(d.file().toString(), trainAll, classes);
        } else if (source instanceof DataSource.FashionMnist f) {
            trainFile = testFile = f.directory().toString();
            trainAll = Datasets.fashionMnistTrain(f.directory());
            test = Datasets.fashionMnistTest(f.directory());
            checkClasses(f.directory().toString(), trainAll, classes);
        } else if (source instanceof DataSource.Idx idx) {
            trainFile = idx.trainImages().toString();
            testFile = idx.testImages().toString();
            trainAll = IdxReader.read(idx.trainImages(), idx.trainLabels(), classes, idx.scale());
            test = IdxReader.read(idx.testImages(), idx.testLabels(), classes, idx.scale());
            checkClasses(idx.trainLabels().toString(), trainAll, classes);
        } else {
            DataSource.Csv csv = (DataSource.Csv) source;
            trainFile = csv.train().toString();
            testFile = csv.test() != null ? csv.test().toString() : trainFile;
            LabeledData all = CsvReader.read(csv.train(), csv.labelColumn(), csv.header(), classes, csv.scale());
            if (csv.test() != null) {
                trainAll = all;
                test = CsvReader.read(csv.test(), csv.labelColumn(), csv.header(), classes, csv.scale());
            } else {
                Splits.Pair parts = Splits.holdOut(all, config.testSplit(), TEST_SPLIT_SEED);
                trainAll = parts.first();
                test = parts.second();
            }
            checkClasses(csv.train().toString(), trainAll, classes);
        }
        checkFeatures(trainFile, trainAll, config);
        checkFeatures(testFile, test, config);
        Splits.Pair parts = Splits.holdOut(trainAll, config.validationSplit(), seed);
        if (config.normalize() == FeatureNormalizer.Method.NONE) {
            return new ExperimentData(source.name(), parts.first(), parts.second(), test, source.preprocessing(),
                    FeatureNormalizer.unevenScales(parts.first().features()));
        }
        // fitted on the training part only: validation and test examples must not leak into it
        FeatureNormalizer normalizer = FeatureNormalizer.fit(config.normalize(), parts.first().features());
        return new ExperimentData(source.name(), normalizer.apply(parts.first()), normalizer.apply(parts.second()),
                normalizer.apply(test), normalizer.after(source.preprocessing()), null);
    }

    private static void checkFeatures(String where, LabeledData data, DataConfig config) {
        if (data.featureCount() != config.input().size()) {
            throw new DistillException(where + ": examples have " + data.featureCount() + " features but data.input "
                    + config.input() + " needs " + config.input().size() + "; fix data.input");
        }
    }

    /** A class count above what the labels use is as wrong as one below it (which the readers reject). */
    private static void checkClasses(String where, LabeledData train, int classes) {
        if (train.numClasses() != classes) {
            throw new DistillException(where + ": data.classes is " + classes + " but this data set has "
                    + train.numClasses() + " classes (labels 0.." + (train.numClasses() - 1) + "); set data.classes: "
                    + train.numClasses());
        }
        int[] counts = train.classCounts();
        for (int c = 0; c < classes; c++) {
            if (counts[c] == 0) {
                throw new DistillException(where + ": data.classes is " + classes + " but no training example has label "
                        + c + "; set data.classes to the number of classes the labels use");
            }
        }
    }
}
