package dev.distill.runner.config;

import java.nio.file.Path;

/** The files a data set is read from. */
public sealed interface DataSource {

    /** Name in summaries and reports. */
    String name();

    /** The digits set shipped in {@code datasets/digits.csv.gz} (1,797 8×8 images, no test file). */
    record Digits(Path file) implements DataSource {
        public String name() {
            return "digits";
        }
    }

    /** Fashion-MNIST's four IDX files in a directory (Debian's dataset-fashion-mnist). */
    record FashionMnist(Path directory) implements DataSource {
        public String name() {
            return "fashion-mnist";
        }
    }

    /** Any IDX image and label files; pixels multiplied by {@code scale}. */
    record Idx(Path trainImages, Path trainLabels, Path testImages, Path testLabels, double scale)
            implements DataSource {
        public String name() {
            return "idx:" + trainImages.getFileName();
        }
    }

    /** CSV with a label column (negative: counted from the end); {@code test} may be null. */
    record Csv(Path train, Path test, int labelColumn, boolean header, double scale) implements DataSource {
        public String name() {
            return "csv:" + train.getFileName();
        }
    }
}
