package dev.distill.runner.stages;


import dev.distill.runner.report.RunSummary.StageResult;

import dev.distill.runner.report.RunSummary.Training;

import dev.distill.core.eval.Accuracy;
import dev.distill.core.eval.InferenceSpeed;
import dev.distill.core.quant.Dl4jToRuntime;
import dev.distill.core.quant.PackedModelFile;
import dev.distill.core.quant.QuantSettings;
import dev.distill.core.quant.Quantization;
import dev.distill.core.train.FineTuning;
import dev.distill.core.train.Optimizer;
import dev.distill.models.spec.ModelCost;
import dev.distill.runner.config.ExperimentConfig;
import dev.distill.runner.config.StageConfig;
import dev.distill.runner.pipeline.ExperimentData;
import dev.distill.core.chain.Plan;
import dev.distill.runner.pipeline.RunDirectory;
import dev.distill.runner.report.Predictions;
import dev.distill.runner.report.RunSummary.LayerEntry;
import dev.distill.runner.report.RunSummary.ModelEntry;
import dev.distill.runner.report.RunSummary.TensorEntry;
import dev.distill.runner.report.SavedModel;
import dev.distill.runtime.Int8Dot;
import dev.distill.runtime.Model;
import dev.distill.runtime.ModelFormatException;
import dev.distill.runtime.Precision;
import dev.distill.runtime.TensorLayout;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToIntFunction;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A quantization stage on one student: quantize and fine-tune ({@link Quantization}), write the packed
 * file {@code models/<input id>-<scheme><bits>.packed}, read it back (so every figure is of the file as
 * shipped, run by distill-runtime), evaluate it on the test split and, for INT8 models, run it on the runtime's int8 path: its
 * test accuracy, its agreement with the float network and its speed against the input model in float32,
 * timed in turns in this process. The packed file is an end point: a later stage starts from this
 * stage's input, so one config can end with several quantized variants of one pruned model.
 */
record QuantizeStage(StageContext context) implements CompressionStage<StageConfig.Quantize> {

    /** The id of a stage's model: {@code <input>-int8}, {@code -kmeans4}, {@code -binary}, then {@code -huffman} if so. */
    static String id(String input, QuantSettings s) {
        return input + "-" + switch (s.scheme()) {
            case INT8 -> "int" + s.bits();
            case KMEANS -> "kmeans" + s.bits();
            case BINARY -> "binary";
        } + (s.huffman() ? "-huffman" : "");
    }

    /** Adds the quantized model's entry; a packed file is an end point, so the next stage starts from {@code input}. */
    @Override
    public StageRunner.Current run(StageConfig.Quantize stage, Plan.Node node, StageRunner.Current input,
            List<ModelEntry> entries) {
        entries.add(quantized(stage, node, input));
        return input;
    }

    private ModelEntry quantized(StageConfig.Quantize stage, Plan.Node node, StageRunner.Current input) {
        ExperimentConfig config = context.config();
        ExperimentData data = context.data();
        RunDirectory run = context.run();
        PrintStream out = context.out();
        QuantSettings s = stage.settings();
        boolean kmeans = s.scheme() == QuantSettings.Scheme.KMEANS;
        String id = id(input.id(), s);
        // k-means moves centroids by lr × the grouped gradient: that is plain SGD's step summed
        StageContext.Tuning tuning = context.tuning(node, stage.learningRate() != null ? stage.learningRate()
                : kmeans ? StageConfig.Quantize.KMEANS_LEARNING_RATE : null, stage.distillLoss(), id,
                kmeans ? Optimizer.SGD : null);
        FineTuning fineTuning = tuning.fineTuning();
        Optimizer optimizer = fineTuning.spec().optimizer();
        double learningRate = fineTuning.spec().learningRate();
        long seed = config.seeds().get(0);
        out.printf(Locale.ROOT, "%s (%s; %s) from %s%n", id, stage.describe(), tuning.describe(node), input.id());
        Quantization.Outcome o = new Quantization(s, fineTuning).run(input.net(), input.spec());

        Path file = run.model(id + ".packed");
        List<TensorLayout> layouts;
        try {
            layouts = PackedModelFile.write(o.net(), o.tensors(), o.activations(), s.huffman(),
                    data.preprocessing(), config.data().source().classNames(), file);
        } catch (IllegalArgumentException e) {
            // a layer distill-runtime cannot run: the packed format describes nothing else
            throw new dev.distill.core.DistillException(id + ": cannot be written packed: " + e.getMessage(), e);
        }
        long fileBytes = StageRunner.size(file);
        // every figure is of the file as shipped, run by distill-runtime: its float path for accuracy
        Model packed = dev.distill.core.modelfile.ModelReader.packed(file).withPrecision(Precision.FLOAT32);
        float[][] inputs = rows(data.test().features());
        int[] predicted = new int[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            predicted[i] = packed.classifyPreprocessed(inputs[i]);
        }
        run.write(Predictions.file(id), Predictions.predictionsJson(id, seed, predicted));
        double accuracy = Accuracy.of(predicted, data.test().labels());
        // the file against the DL4J network it was written from (dequantized weights, parameters in half)
        double[] dl4jAgreement = agreementWithDl4j(packed, inputs, o.net().output(data.test().features(), false));
        int[] inputPredicted = Accuracy.predict(input.net(), data.test().features());
        double inputAccuracy = Accuracy.of(inputPredicted, data.test().labels());

        Map<String, Object> details = schemeDetails(s);
        if (s.scheme() == QuantSettings.Scheme.INT8) {
            details.put("calibration", StageRunner.lower(s.calibration()));
            details.put("percentile", s.calibration() == QuantSettings.Calibration.PERCENTILE ? s.percentile() : null);
            details.put("calibration_batches", s.calibrationBatches());
            details.put("qat", s.qat());
        }
        if (kmeans) {
            details.put("init", StageRunner.lower(s.init()));
        }
        boolean tuned = s.fineTuneEpochs() > 0 && (s.scheme() != QuantSettings.Scheme.INT8 || s.qat());
        details.put("fine_tune_epochs", tuned ? s.fineTuneEpochs() : 0);
        details.put("optimizer", tuned ? StageRunner.lower(optimizer) : null);
        details.put("learning_rate", tuned ? learningRate : null);
        details.put("loss", tuning.distill() ? "distill" : "hard");
        details.put("huffman", s.huffman());
        details.put("input_test_accuracy", inputAccuracy);
        details.put("input_file_bytes", input.fileBytes());
        details.put("validation_accuracy_before", o.validationBefore());
        details.put("validation_accuracy_quantized", o.validationQuantized());
        details.put("validation_accuracy_after", o.validationAfter());
        details.put("packed_format_version", dev.distill.runtime.PackedFormat.VERSION);
        details.put("runtime_agreement_with_dl4j", dl4jAgreement[0]);
        details.put("runtime_max_probability_difference", dl4jAgreement[1]);

        Double intSpeed = null;
        Double floatSpeed = null;
        Model integer = packed.supports(Precision.INT8) ? packed.withPrecision(Precision.INT8) : null;
        if (integer == null && s.scheme() == QuantSettings.Scheme.INT8) {
            details.put("integer_path", "none: no layer has int8 weights with a calibrated input range");
        }
        if (integer != null) {
            int[] ints = new int[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                ints[i] = integer.classifyPreprocessed(inputs[i]);
            }
            details.put("integer_test_accuracy", Accuracy.of(ints, data.test().labels()));
            details.put("integer_agreement_with_input", agreement(ints, inputPredicted));
            details.put("integer_agreement_with_dequantized", agreement(ints, predicted));
            Model fp32 = floatModel(input.net(), config);
            // with the Vector API kernel, the plain-Java one is measured too (in the same turns), so the
            // report shows what the flag bought
            Model scalar = integer.withInt8Kernel(Int8Dot.scalar());
            boolean vector = !integer.int8Kernel().equals(scalar.int8Kernel());
            List<ToIntFunction<float[]>> predictors = vector
                    ? List.of(integer::classifyPreprocessed, fp32::classifyPreprocessed, scalar::classifyPreprocessed)
                    : List.of(integer::classifyPreprocessed, fp32::classifyPreprocessed);
            InferenceSpeed.OneAtATime speed = InferenceSpeed.oneAtATime(inputs, StageRunner.SPEED_REPEATS, predictors);
            double[] rates = speed.samplesPerSecond();
            intSpeed = rates[0];
            floatSpeed = rates[1];
            details.put("integer_kernel", integer.int8Kernel());
            details.put("integer_scalar_samples_per_s", vector ? rates[2] : rates[0]);
            details.put("dl4j_batch_infer_samples_per_s", InferenceSpeed.samplesPerSecond(
                    StageRunner.repeated(data.test().features()), StageRunner.SPEED_REPEATS, input.net())[0]);
            details.put("speed_repeats", StageRunner.SPEED_REPEATS);
            details.put("speed_examples_per_pass", speed.examplesTimed());
            details.put("load_average", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        }

        List<TensorEntry> tensors = new ArrayList<>();
        long stored = 0;
        long weights = 0;
        for (TensorLayout l : layouts) {
            String as = l.kind().equals("float") ? "float" + l.bits() : l.kind() + " " + l.bits() + "-bit"
                    + (l.indexBits() > 0 ? ", " + l.indexBits() + "-bit relative indices" : "")
                    + (l.huffmanCodes() || l.huffmanIndices() ? ", huffman" : "");
            tensors.add(new TensorEntry(StageRunner.layerName(input.spec(), l.key()), l.key(), l.values(), l.stored(),
                    as, 0, l.floatBytes(), l.storedBytes()));
            if (!l.kind().equals("float")) {
                stored += l.stored();
                weights += l.values();
            }
        }
        SavedModel saved = SavedModel.of(o.net());
        ModelCost cost = input.spec().cost(config.data().input(), config.data().classes());
        List<LayerEntry> layers = cost.layers().stream()
                .map(l -> new LayerEntry(l.index(), l.type(), l.outputShape(), l.params(), l.multiplyAdds())).toList();
        double sparsity = weights == 0 ? 0 : 1.0 - (double) stored / weights;
        ModelEntry entry = StageContext.entry(id, node, tuning.distill(), accuracy, saved.nonzero(), fileBytes,
                cost.multiplyAdds(), new Training(o.seconds(), null, null, o.validationAfter()), "models/" + id + ".packed",
                saved.nonzero(), layers, new StageResult("quantize", input.id(), sparsity, null, tensors, details))
                .withQuantization(new dev.distill.runner.report.RunSummary.Quantization(StageRunner.lower(s.scheme()),
                        s.bits(), intSpeed, floatSpeed));
        out.printf(Locale.ROOT, "  %s: test accuracy %.4f (%s: %.4f), file %,d bytes (%s: %,d, %.1fx smaller), "
                + "%.1f s%n", id, accuracy, input.id(), inputAccuracy, fileBytes, input.id(), input.fileBytes(),
                (double) input.fileBytes() / fileBytes, o.seconds());
        out.printf(Locale.ROOT, "  %s on distill-runtime vs its DL4J network: same class on %.2f%% of the test examples, "
                + "max |probability difference| %.1e%n", id, 100 * dl4jAgreement[0], dl4jAgreement[1]);
        if (integer != null) {
            out.printf(Locale.ROOT, "  %s integer path: test accuracy %.4f, same class as %s on %.2f%% of the test "
                    + "examples; %,.0f examples/s one at a time (%s kernel%s) vs %,.0f in float32 (%.2fx; load average "
                    + "%.2f)%n", id, details.get("integer_test_accuracy"), input.id(),
                    100 * (double) details.get("integer_agreement_with_input"), intSpeed, integer.int8Kernel(),
                    integer.int8Kernel().equals("vector") ? String.format(Locale.ROOT, "; scalar kernel %,.0f",
                            (double) details.get("integer_scalar_samples_per_s")) : "",
                    floatSpeed, intSpeed / floatSpeed, details.get("load_average"));
        }
        return entry;
    }

    /** The first stage details of a quantized model: its scheme, width and how its scales were chosen. */
    static Map<String, Object> schemeDetails(QuantSettings s) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("scheme", StageRunner.lower(s.scheme()));
        details.put("bits", s.bits());
        details.put("per_channel", s.perChannel());
        details.put("symmetric", s.symmetric());
        return details;
    }

    /** The unquantized input network on the runtime's float path: the int8 path's reference in speed. */
    private static Model floatModel(org.deeplearning4j.nn.multilayer.MultiLayerNetwork net, ExperimentConfig config) {
        try {
            return Model.of(Dl4jToRuntime.describe(net, List.of(), List.of(), config.data().source().preprocessing(),
                    config.data().source().classNames()), "the input model");
        } catch (ModelFormatException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /**
     * The packed file on the runtime's float path against the DL4J network it was written from, on the
     * test split ({@code inputs}, on which DL4J gave {@code probabilities}): the share of examples given the
     * same class and the largest |probability difference|.
     */
    static double[] agreementWithDl4j(Model packed, float[][] inputs, INDArray probabilities) {
        int same = 0;
        double maxDifference = 0;
        for (int i = 0; i < inputs.length; i++) {
            float[] runtime = packed.predictPreprocessed(inputs[i]);
            float[] dl4j = probabilities.getRow(i).toFloatVector();
            same += Model.argmax(runtime) == Model.argmax(dl4j) ? 1 : 0;
            for (int c = 0; c < runtime.length; c++) {
                maxDifference = Math.max(maxDifference, Math.abs(runtime[c] - dl4j[c]));
            }
        }
        return new double[] {inputs.length == 0 ? Double.NaN : (double) same / inputs.length, maxDifference};
    }

    private static float[][] rows(INDArray features) {
        float[][] rows = new float[(int) features.rows()][];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = features.getRow(i).toFloatVector();
        }
        return rows;
    }

    private static double agreement(int[] a, int[] b) {
        int same = 0;
        for (int i = 0; i < a.length; i++) {
            same += a[i] == b[i] ? 1 : 0;
        }
        return a.length == 0 ? Double.NaN : (double) same / a.length;
    }

}
