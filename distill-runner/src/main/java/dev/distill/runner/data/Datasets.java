package dev.distill.runner.data;

import dev.distill.core.data.LabeledData;
import java.nio.file.Files;
import java.nio.file.Path;

/** The named data sets this project knows how to load. */
public final class Datasets {
    /** Where Debian's dataset-fashion-mnist package puts the four IDX files. */
    public static final Path FASHION_MNIST_DIR = Path.of("/usr/share/datasets/fashion-mnist");

    static final String FASHION_MNIST_HINT = "install Debian's dataset-fashion-mnist "
            + "(apt-get install -y dataset-fashion-mnist) or set data.path to a directory holding the four IDX files";

    private Datasets() {
    }

    /**
     * The UCI handwritten digits as shipped in {@code datasets/digits.csv.gz}: 1,797 rows of 64 pixels (8x8,
     * values 0..16) then the label, no header. Features are scaled to [0, 1].
     */
    public static LabeledData digits(Path csvGz) {
        return CsvReader.read(csvGz, 64, false, 10, 1.0 / 16);
    }

    /** The 60,000 Fashion-MNIST training images (28x28, scaled to [0, 1]) from {@code dir}. */
    public static LabeledData fashionMnistTrain(Path dir) {
        return fashionMnist(dir, "train");
    }

    /** The 10,000 Fashion-MNIST test images (28x28, scaled to [0, 1]) from {@code dir}. */
    public static LabeledData fashionMnistTest(Path dir) {
        return fashionMnist(dir, "t10k");
    }

    private static LabeledData fashionMnist(Path dir, String prefix) {
        if (!Files.isDirectory(dir)) {
            throw new DataException(dir, "Fashion-MNIST directory not found; " + FASHION_MNIST_HINT);
        }
        Path images = dir.resolve(prefix + "-images-idx3-ubyte.gz");
        Path labels = dir.resolve(prefix + "-labels-idx1-ubyte.gz");
        for (Path file : new Path[] {images, labels}) {
            if (!Files.isRegularFile(file)) {
                throw new DataException(file, "file not found; " + FASHION_MNIST_HINT);
            }
        }
        return IdxReader.read(images, labels, 10, 1.0 / 255);
    }
}
