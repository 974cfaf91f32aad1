package dev.distill.runner.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.data.LabeledData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetsTest {

    @Test
    void readsEmbeddedDigits() {
        LabeledData digits = Datasets.digits(findDigits());
        assertEquals(1797, digits.size());
        assertEquals(64, digits.featureCount());
        assertEquals(10, digits.numClasses());
        for (int count : digits.classCounts()) {
            assertTrue(count >= 170 && count <= 190, "class count " + count);
        }
        assertInUnitRange(digits);
        assertEquals(1f, digits.features().maxNumber().floatValue()); // 16 / 16
    }

    @Test
    void readsInstalledFashionMnist() {
        LabeledData train = Datasets.fashionMnistTrain(Datasets.FASHION_MNIST_DIR);
        assertEquals(60000, train.size());
        assertEquals(784, train.featureCount());
        assertArrayEquals(new int[] {6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000}, train.classCounts());
        assertInUnitRange(train);

        LabeledData test = Datasets.fashionMnistTest(Datasets.FASHION_MNIST_DIR);
        assertEquals(10000, test.size());
        assertEquals(784, test.featureCount());
        assertArrayEquals(new int[] {1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000}, test.classCounts());
        assertInUnitRange(test);
    }

    @Test
    void missingFashionMnistDirectorySaysHowToInstall(@TempDir Path tmp) {
        Path dir = tmp.resolve("fashion-mnist");
        String msg = assertThrows(DataException.class, () -> Datasets.fashionMnistTrain(dir)).getMessage();
        assertTrue(msg.startsWith(dir.toString()), msg);
        assertTrue(msg.contains("install Debian's dataset-fashion-mnist (apt-get install -y dataset-fashion-mnist)"
                + " or set data.path to a directory holding the four IDX files"), msg);
    }

    @Test
    void missingFashionMnistFileSaysWhichAndHowToInstall(@TempDir Path dir) throws IOException {
        Files.write(dir.resolve("t10k-images-idx3-ubyte.gz"), IdxReaderTest.gzip(
                IdxReaderTest.imageFile(1, 1, 1, new int[] {0})));
        String msg = assertThrows(DataException.class, () -> Datasets.fashionMnistTest(dir)).getMessage();
        assertTrue(msg.startsWith(dir.resolve("t10k-labels-idx1-ubyte.gz").toString()), msg);
        assertTrue(msg.contains("apt-get install -y dataset-fashion-mnist"), msg);
    }

    private static void assertInUnitRange(LabeledData data) {
        assertTrue(data.features().minNumber().floatValue() >= 0f);
        assertTrue(data.features().maxNumber().floatValue() <= 1f);
    }

    /** datasets/digits.csv.gz, found by walking up from the working directory (the module or the root). */
    private static Path findDigits() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path candidate = p.resolve("datasets").resolve("digits.csv.gz");
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("datasets/digits.csv.gz not found above " + Path.of("").toAbsolutePath());
    }
}
