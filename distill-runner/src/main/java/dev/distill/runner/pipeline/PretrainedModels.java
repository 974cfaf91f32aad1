package dev.distill.runner.pipeline;

import dev.distill.core.modelfile.ModelReader;

import dev.distill.core.DistillException;
import dev.distill.runner.config.ExperimentConfig;
import dev.distill.runner.config.ModelConfig;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import dev.distill.models.network.Network;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Loads a config's pretrained models (DL4J files; ONNX files are only checked) and checks, before anything trains, that each accepts the
 * data's examples and predicts its number of classes.
 */
public final class PretrainedModels {

    private PretrainedModels() {
    }

    public static Map<String, Network> load(ExperimentConfig config, ExperimentData data) {
        Map<String, Network> nets = new LinkedHashMap<>();
        for (ModelConfig model : config.models().values()) {
            if (model instanceof ModelConfig.Pretrained p && p.from() != null
                    && !java.nio.file.Files.isRegularFile(p.file())) {
                // another config's run not made yet (validate says so; run makes it before it loads models)
                continue;
            }
            if (model instanceof ModelConfig.Pretrained p && p.onnx() != null) {
                // checked now, before anything is written; the pipeline opens it again when it needs it
                openOnnx(p, config, data).close();
            } else if (model instanceof ModelConfig.Pretrained p) {
                nets.put(p.name(), loadChecked(p.file(), data.test().features(), config.data().classes()));
            }
        }
        return nets;
    }

    /**
     * An ONNX teacher in ONNX Runtime, checked against the data: it loads, takes the data's examples in
     * its declared layout, outputs one finite value per class (one line naming the file otherwise).
     */
    public static dev.distill.onnx.OnnxTeacher openOnnx(ModelConfig.Pretrained p, ExperimentConfig config,
            ExperimentData data) {
        return dev.distill.onnx.OnnxTeacher.open(p.onnx(), config.data().input(), config.data().classes(),
                data.test().features(), dev.distill.onnx.OnnxTeacher.threadsFromEnvironment());
    }

    /**
     * A DL4J model file (sequential or graph zip, or our sparse format) that takes {@code features}'
     * width and outputs {@code classes} values.
     */
    public static Network loadChecked(Path file, INDArray features, int classes) {
        // the reader's own line says which format and what is wrong
        Network net = ModelReader.network(file);
        checkFits(file, net, features, classes);
        return net;
    }

    /** Checks that {@code net} (read from {@code file}) takes {@code features}' examples and gives {@code classes} outputs. */
    public static void checkFits(Path file, Network net, INDArray features, int classes) {
        INDArray probe = features.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, Math.min(2, features.rows())),
                org.nd4j.linalg.indexing.NDArrayIndex.all());
        INDArray output;
        try {
            output = net.output(probe);
        } catch (RuntimeException e) {
            throw new DistillException(file + ": the model does not accept this data's examples (" + features.columns()
                    + " values each): " + firstLine(e), e);
        }
        if (output.rank() != 2 || output.columns() != classes) {
            throw new DistillException(file + ": the model outputs " + java.util.Arrays.toString(output.shape())
                    + " per batch but the data has " + classes + " classes");
        }
    }

    private static String firstLine(Exception e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.lines().findFirst().orElse(m);
    }
}
