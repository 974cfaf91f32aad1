package dev.distill.runner.config;

import dev.distill.models.spec.InputShape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * The {@code data:} block: which source (digits, fashion-mnist, idx, csv) and its files, the input shape,
 * classes, batch size, splits, the data set's name and its per-feature normalization. Paths are resolved
 * against the config's directory (or the base a run directory's copy was loaded with).
 */
final class DataParser {

    private final Path base;

    DataParser(Path base) {
        this.base = base;
    }

    DataConfig data(YamlMap d) {
        String dataset = d.string("dataset");
        Set<String> common = Set.of("dataset", "input", "classes", "batch_size", "validation_split", "test_split");
        DataSource source;
        InputShape defaultInput = null;
        int defaultClasses = -1;
        boolean hasTestFile;
        switch (dataset) {
            case "digits" -> {
                d.allowOnly(YamlMap.union(common, Set.of("path")));
                Path path = d.has("path") ? YamlMap.resolve(base, d.string("path")) : DefaultPaths.digits();
                source = new DataSource.Digits(path);
                defaultInput = InputShape.image(8, 8, 1);
                defaultClasses = 10;
                hasTestFile = false;
            }
            case "fashion-mnist" -> {
                d.allowOnly(YamlMap.union(common, Set.of("path")));
                Path path = d.has("path") ? YamlMap.resolve(base, d.string("path")) : dev.distill.runner.data.Datasets.FASHION_MNIST_DIR;
                source = new DataSource.FashionMnist(path);
                defaultInput = InputShape.image(28, 28, 1);
                defaultClasses = 10;
                hasTestFile = true;
            }
            case "idx" -> {
                d.allowOnly(YamlMap.union(common, Set.of("train_images", "train_labels", "test_images", "test_labels",
                        "scale", "name", "normalize")));
                Path images = file(d, "train_images");
                Path folder = images.toAbsolutePath().getParent();
                String name = dataName(d, folder == null || folder.getFileName() == null ? "idx"
                        : folder.getFileName().toString());
                source = new DataSource.Idx(name, images, file(d, "train_labels"),
                        file(d, "test_images"), file(d, "test_labels"), d.number("scale", 1.0 / 255));
                hasTestFile = true;
            }
            case "csv" -> {
                d.allowOnly(YamlMap.union(common, Set.of("train", "test", "label_column", "header", "scale", "name",
                        "normalize")));
                Path test = d.has("test") ? file(d, "test") : null;
                Path train = file(d, "train");
                String name = dataName(d, train.getFileName().toString().replaceFirst("(\\.[A-Za-z0-9]+)+$", ""));
                source = new DataSource.Csv(name, train, test, d.integer("label_column", -1),
                        d.bool("header", false), d.number("scale", 1.0));
                hasTestFile = test != null;
            }
            default -> throw d.error("dataset", "unknown data set '" + dataset
                    + "'; known: digits, fashion-mnist, idx, csv");
        }
        InputShape input = d.has("input") ? input(d.map("input")) : defaultInput;
        if (input == null) {
            throw d.error("input", "missing required key: give {height, width, channels} for images or "
                    + "{features: N} for flat vectors");
        }
        int classes = d.has("classes") ? d.integer("classes") : defaultClasses;
        if (classes == -1) {
            throw d.error("classes", "missing required key: the number of classes");
        }
        if (classes < 2) {
            throw d.error("classes", "must be at least 2, found " + classes);
        }
        int batchSize = d.integer("batch_size", 64);
        if (batchSize < 1) {
            throw d.error("batch_size", "must be a positive integer, found " + batchSize);
        }
        double validation = fraction(d, "validation_split", 0.1);
        double test = fraction(d, "test_split", hasTestFile ? 0.0 : 0.2);
        if (hasTestFile && d.has("test_split")) {
            throw d.error("test_split", "this data set has its own test files; remove test_split");
        }
        if (!hasTestFile && test == 0) {
            throw d.error("test_split", "must be above 0: this data set has no test file");
        }
        dev.distill.runner.data.FeatureNormalizer.Method normalize = d.enumValue("normalize", "none",
                dev.distill.runner.data.FeatureNormalizer.Method.class);
        return new DataConfig(source, input, classes, batchSize, validation, test, normalize);
    }

    /** {@code data.name}, the data set's name in summaries and reports, else {@code fallback}. */
    private static String dataName(YamlMap d, String fallback) {
        if (!d.has("name")) {
            return fallback;
        }
        String name = d.string("name");
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9._ -]*")) {
            throw d.error("name", "use letters, digits, ' ', '.', '_' and '-', found '" + name + "'");
        }
        return name;
    }

    private Path file(YamlMap d, String key) {
        Path p = YamlMap.resolve(base, d.string(key));
        if (!Files.isRegularFile(p)) {
            throw d.error(key, "file not found: " + p);
        }
        return p;
    }

    private static double fraction(YamlMap d, String key, double fallback) {
        double v = d.number(key, fallback);
        if (!(v >= 0 && v < 0.9)) {
            throw d.error(key, "must be in [0, 0.9), found " + v);
        }
        return v;
    }

    InputShape input(YamlMap in) {
        if (in.has("features")) {
            in.allowOnly(Set.of("features"));
            return YamlMap.check(in, "features", () -> InputShape.flat(in.integer("features")));
        }
        in.allowOnly(Set.of("height", "width", "channels", "features"));
        return YamlMap.check(in, "height", () -> InputShape.image(in.integer("height"), in.integer("width"),
                in.integer("channels", 1)));
    }
}
