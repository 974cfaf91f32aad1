package dev.distill.runner.config;

import java.nio.file.Path;

/** The files a data set is read from. */
public sealed interface DataSource {

    /** Name in summaries and reports. */
    String name();

    /** What the reader multiplies the files' raw values by (a shipped model's preprocessing). */
    double scale();

    /** The names of the classes in label order, when the data set has them; else empty. */
    default java.util.List<String> classNames() {
        return java.util.List.of();
    }

    /** How the files' raw values become a network's input, for a model that leaves the framework. */
    default dev.distill.runtime.Preprocessing preprocessing() {
        return new dev.distill.runtime.Preprocessing((float) scale(), 0f);
    }

    /** The digits set shipped in {@code datasets/digits.csv.gz} (1,797 8×8 images, no test file). */
    record Digits(Path file) implements DataSource {
        public String name() {
            return "digits";
        }

        /** Pixels 0..16. */
        public double scale() {
            return 1.0 / 16;
        }
    }

    /** Fashion-MNIST's four IDX files in a directory (Debian's dataset-fashion-mnist). */
    record FashionMnist(Path directory) implements DataSource {
        /** The labels' names, as the data set's authors give them. */
        public static final java.util.List<String> CLASS_NAMES = java.util.List.of("T-shirt/top", "Trouser",
                "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

        public String name() {
            return "fashion-mnist";
        }

        /** 8-bit pixels. */
        public double scale() {
            return 1.0 / 255;
        }

        @Override
        public java.util.List<String> classNames() {
            return CLASS_NAMES;
        }
    }

    /**
     * Any IDX image and label files; pixels multiplied by {@code scale}. {@code name} is the data set's
     * ({@code data.name}, else the directory the training images are in), not its image file's.
     */
    record Idx(String name, Path trainImages, Path trainLabels, Path testImages, Path testLabels, double scale)
            implements DataSource {
    }

    /**
     * CSV with a label column (negative: counted from the end); {@code test} may be null. {@code name}:
     * {@code data.name}, else the training file's name without its extensions.
     */
    record Csv(String name, Path train, Path test, int labelColumn, boolean header, double scale)
            implements DataSource {
    }
}
