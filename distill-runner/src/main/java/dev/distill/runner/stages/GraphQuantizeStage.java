package dev.distill.runner.stages;

import dev.distill.core.chain.Plan;
import dev.distill.core.eval.Accuracy;
import dev.distill.core.quant.PackedModelFile;
import dev.distill.core.quant.QuantSettings;
import dev.distill.core.quant.Quantization;
import dev.distill.models.network.Network;
import dev.distill.models.spec.ModelCost;
import dev.distill.runner.config.ExperimentConfig;
import dev.distill.runner.config.StageConfig;
import dev.distill.runner.pipeline.ExperimentData;
import dev.distill.runner.report.Predictions;
import dev.distill.runner.report.RunSummary;
import dev.distill.runner.report.RunSummary.LayerEntry;
import dev.distill.runner.report.RunSummary.ModelEntry;
import dev.distill.runner.report.RunSummary.StageResult;
import dev.distill.runner.report.RunSummary.TensorEntry;
import dev.distill.runner.report.RunSummary.Training;
import dev.distill.runner.report.SavedModel;
import dev.distill.runtime.Model;
import dev.distill.runtime.Precision;
import dev.distill.runtime.TensorLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * A quantization stage on a graph student (the zoo's, or a {@code graph:} model): its weights coded after
 * training, without fine-tuning ({@link Quantization#postTraining}), written packed as
 * {@code models/<input id>-<scheme><bits>.packed}, read back and run by distill-runtime's float path on the
 * test split, and checked against the DL4J graph it was written from. Config parsing refuses fine-tuning
 * for graphs. Like {@link QuantizeStage}, an end point.
 */
final class GraphQuantizeStage {

    private final StageContext context;

    GraphQuantizeStage(StageContext context) {
        this.context = context;
    }

    /** A graph student a stage starts from: its id, network, cost and file size. */
    record Input(String id, Network.Graph graph, ModelCost cost, long fileBytes) {
    }

    ModelEntry run(StageConfig.Quantize stage, Plan.Node node, Input input) {
        ExperimentConfig config = context.config();
        ExperimentData data = context.data();
        QuantSettings s = stage.settings();
        String id = QuantizeStage.id(input.id(), s);
        long seed = config.seeds().get(0);
        context.out().printf(Locale.ROOT, "%s (%s; graph: after training, no fine-tuning) from %s%n", id,
                stage.describe(), input.id());
        Quantization.GraphOutcome o = Quantization.postTraining(input.graph(), s, seed);
        Path file = context.run().model(id + ".packed");
        List<TensorLayout> layouts;
        try {
            layouts = PackedModelFile.write(o.graph(), o.tensors(), s.huffman(), config.data().source().preprocessing(),
                    config.data().source().classNames(), file);
        } catch (IllegalArgumentException e) {
            throw new dev.distill.core.DistillException(id + ": cannot be written packed: " + e.getMessage(), e);
        }
        long fileBytes = StageRunner.size(file);
        Model packed = PackedModelFile.read(file).withPrecision(Precision.FLOAT32);
        INDArray features = data.test().features();
        float[][] inputs = features.toFloatMatrix();
        int[] predicted = new int[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            predicted[i] = packed.classifyPreprocessed(inputs[i]);
        }
        context.run().write(Predictions.file(id), Predictions.predictionsJson(id, seed, predicted));
        double accuracy = Accuracy.of(predicted, data.test().labels());
        double inputAccuracy = Accuracy.of(Accuracy.predict(input.graph(), features), data.test().labels());
        // the output as shipped: softmax probabilities, whatever the loss it was trained with
        double[] agreement = QuantizeStage.agreementWithDl4j(packed, inputs, o.graph()
                .withOutput(new ActivationSoftmax(), new LossMCXENT()).output(features));

        Map<String, Object> details = QuantizeStage.schemeDetails(s);
        if (s.scheme() == QuantSettings.Scheme.KMEANS) {
            details.put("init", StageRunner.lower(s.init()));
        }
        details.put("fine_tune_epochs", 0);
        details.put("huffman", s.huffman());
        details.put("graph", true);
        details.put("integer_path", "none: graphs run on the float path, their weights decoded at load time");
        details.put("input_test_accuracy", inputAccuracy);
        details.put("input_file_bytes", input.fileBytes());
        details.put("packed_format_version", dev.distill.runtime.PackedFormat.VERSION);
        details.put("runtime_agreement_with_dl4j", agreement[0]);
        details.put("runtime_max_probability_difference", agreement[1]);

        List<TensorEntry> tensors = new ArrayList<>();
        for (TensorLayout l : layouts) {
            String as = l.kind().equals("float") ? "float" + l.bits() : l.kind() + " " + l.bits() + "-bit"
                    + (l.huffmanCodes() || l.huffmanIndices() ? ", huffman" : "");
            tensors.add(new TensorEntry(l.key().substring(0, Math.max(0, l.key().lastIndexOf('_'))), l.key(),
                    l.values(), l.stored(), as, 0, l.floatBytes(), l.storedBytes()));
        }
        SavedModel saved = SavedModel.of(o.graph());
        List<LayerEntry> layers = input.cost().layers().stream()
                .map(l -> new LayerEntry(l.index(), l.type(), l.outputShape(), l.params(), l.multiplyAdds())).toList();
        ModelEntry entry = StageContext.entry(id, node, false, accuracy, saved.nonzero(), fileBytes,
                input.cost().multiplyAdds(), new Training(o.seconds(), null, null, null), "models/" + id + ".packed",
                saved.nonzero(), layers, new StageResult("quantize", input.id(), 0.0, null, tensors, details))
                .withQuantization(new RunSummary.Quantization(StageRunner.lower(s.scheme()), s.bits(), null, null));
        context.out().printf(Locale.ROOT, "  %s: test accuracy %.4f (%s: %.4f), file %,d bytes (%s: %,d, %.1fx "
                + "smaller); on distill-runtime vs its DL4J graph: same class on %.2f%% of the test examples, max "
                + "|probability difference| %.1e%n", id, accuracy, input.id(), inputAccuracy, fileBytes, input.id(),
                input.fileBytes(), (double) input.fileBytes() / fileBytes, 100 * agreement[0], agreement[1]);
        return entry;
    }
}
