package dev.distill.runner.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The data block's idx and csv sources: the name a data set goes by in reports and evaluate. */
class DataConfigTest {

    @TempDir
    Path dir;

    private DataSource load(String data) throws Exception {
        Path config = Files.writeString(dir.resolve("c.yaml"), "name: c\ndata:\n" + data.indent(2) + """
                models:
                  teacher: {layers: [{type: output, classes: 3}]}
                  student: {layers: [{type: output, classes: 3}]}
                chains: [[teacher, student]]
                """);
        return ConfigLoader.load(config).data().source();
    }

    private String idx(String extra) throws Exception {
        Path folder = Files.createDirectories(dir.resolve("shoes-2024"));
        for (String f : new String[] {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte"}) {
            Files.write(folder.resolve(f), new byte[0]);
        }
        return """
                dataset: idx
                train_images: shoes-2024/train-images-idx3-ubyte
                train_labels: shoes-2024/train-labels-idx1-ubyte
                test_images: shoes-2024/t10k-images-idx3-ubyte
                test_labels: shoes-2024/t10k-labels-idx1-ubyte
                input: {height: 2, width: 2, channels: 1}
                classes: 3
                """ + extra;
    }

    @Test
    void anIdxDataSetIsNamedAfterItsFolderNotItsImageFile() throws Exception {
        assertEquals("shoes-2024", load(idx("")).name());
    }

    @Test
    void dataNameNamesTheDataSet() throws Exception {
        assertEquals("Shoes v2", load(idx("name: Shoes v2\n")).name());
        ConfigException e = assertThrows(ConfigException.class, () -> load(idx("name: '../x'\n")));
        assertTrue(e.getMessage().contains("data.name: use letters"), e.getMessage());
    }

    @Test
    void aCsvDataSetIsNamedAfterItsFileWithoutExtensions() throws Exception {
        Files.write(dir.resolve("breast-cancer.csv.gz"), new byte[0]);
        assertEquals("breast-cancer", load("""
                dataset: csv
                train: breast-cancer.csv.gz
                input: {features: 4}
                classes: 3
                """).name());
    }

    @Test
    void normalizeIsReadForCsvAndIdxAndRefusedWhereItIsNotOffered() throws Exception {
        Files.write(dir.resolve("t.csv"), new byte[0]);
        String csv = """
                dataset: csv
                train: t.csv
                input: {features: 4}
                classes: 3
                """;
        assertEquals(dev.distill.runner.data.FeatureNormalizer.Method.NONE, loadData(csv).normalize());
        assertEquals(dev.distill.runner.data.FeatureNormalizer.Method.STANDARDIZE,
                loadData(csv + "normalize: standardize\n").normalize());
        assertEquals(dev.distill.runner.data.FeatureNormalizer.Method.MINMAX, loadData(idx("normalize: minmax\n")).normalize());
        ConfigException unknown = assertThrows(ConfigException.class, () -> loadData(csv + "normalize: zscore\n"));
        assertTrue(unknown.getMessage().contains("data.normalize: unknown value 'zscore'; known: standardize, minmax, none"),
                unknown.getMessage());
        ConfigException digits = assertThrows(ConfigException.class, () -> loadData("""
                dataset: digits
                input: {height: 8, width: 8, channels: 1}
                classes: 10
                normalize: standardize
                """));
        assertTrue(digits.getMessage().contains("normalize"), digits.getMessage());
    }

    private DataConfig loadData(String data) throws Exception {
        Path config = Files.writeString(dir.resolve("n.yaml"), "name: n\ndata:\n" + data.indent(2) + """
                models:
                  teacher: {layers: [{type: output}]}
                  student: {layers: [{type: output}]}
                chains: [[teacher, student]]
                """);
        return ConfigLoader.load(config).data();
    }
}
