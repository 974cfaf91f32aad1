package dev.distill.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.data.LabeledData;
import dev.distill.core.eval.Accuracy;
import dev.distill.core.quant.PackedModelFile;
import dev.distill.core.quant.Quantization;
import dev.distill.models.network.Network;
import dev.distill.models.network.NetworkFactory;
import dev.distill.models.network.Networks;
import dev.distill.models.zoo.Zoo;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import dev.distill.models.spec.Activation;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.LayerSpec;
import dev.distill.models.spec.LayerSpec.Padding;
import dev.distill.models.spec.LayerSpec.PoolType;
import dev.distill.models.spec.ModelSpec;
import dev.distill.runner.config.ConfigLoader;
import dev.distill.runner.config.ExperimentConfig;
import dev.distill.runner.pipeline.ExperimentData;
import dev.distill.runtime.Model;
import dev.distill.runtime.Precision;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Adam;

/**
 * Students of each kind (MLP, CNN, depthwise-separable with batch norm and dropout), trained briefly on real
 * data, written packed and run by distill-runtime on the whole test split: the float path picks DL4J's class
 * on every example with probabilities within 1e-5; the post-training int8 path (Fashion-MNIST's 10,000 test
 * images) picks it on at least 99.5% with test accuracy within 0.2 points.
 */
class RuntimeAgreementTest {

    @TempDir
    Path dir;

    static final ModelSpec MLP = new ModelSpec(List.of(new LayerSpec.Dense(32, Activation.RELU), new LayerSpec.Output(10)));
    static final ModelSpec CNN = new ModelSpec(List.of(
            new LayerSpec.Conv2d(8, 3, 1, Padding.SAME, Activation.RELU), new LayerSpec.Pool(PoolType.MAX, 2, 2),
            new LayerSpec.Conv2d(16, 3, 1, Padding.SAME, Activation.RELU), new LayerSpec.Pool(PoolType.MAX, 2, 2),
            new LayerSpec.Dense(32, Activation.RELU), new LayerSpec.Output(10)));
    /** MobileNet-style: conv, batch norm, depthwise (linear) + batch norm + ReLU, pointwise, pooling, dropout. */
    static final ModelSpec MOBILE = new ModelSpec(List.of(
            new LayerSpec.Conv2d(8, 3, 2, Padding.SAME, Activation.RELU), new LayerSpec.BatchNorm(),
            new LayerSpec.DepthwiseConv2d(3, 1, 1, Padding.SAME, Activation.IDENTITY), new LayerSpec.BatchNorm(),
            new LayerSpec.Activate(Activation.RELU),
            new LayerSpec.Conv2d(16, 1, 1, Padding.SAME, Activation.RELU), new LayerSpec.Pool(PoolType.MAX, 2, 2),
            new LayerSpec.GlobalPool(PoolType.AVG), new LayerSpec.Dropout(0.1), new LayerSpec.Output(10)));
    /**
     * DL4J's fused separable convolution. Multiplier 1: with 2, DL4J 1.0.0-M2.1 fails in its own forward pass
     * ("sconv2d ... NDArray::reshapei: bad input shape"), so the order of several depthwise outputs per
     * channel is untested against DL4J; so it does on a one-channel input, hence the conv in front.
     */
    static final ModelSpec SEPARABLE = new ModelSpec(List.of(
            new LayerSpec.Conv2d(4, 3, 1, Padding.SAME, Activation.RELU),
            new LayerSpec.SeparableConv2d(8, 3, 1, 1, Padding.SAME, Activation.RELU), new LayerSpec.Pool(PoolType.MAX, 2, 2),
            new LayerSpec.Output(10)));
    /**
     * The same without global pooling, the feature map flattened into the output: on Fashion-MNIST the
     * pooled one reached 59% after two epochs, its logits so close that int8 weights alone changed 1.1% of
     * its classes; this one learns enough for the int8 bar to mean something.
     */
    static final ModelSpec MOBILE_FLAT = new ModelSpec(List.of(
            new LayerSpec.Conv2d(8, 3, 2, Padding.SAME, Activation.RELU), new LayerSpec.BatchNorm(),
            new LayerSpec.DepthwiseConv2d(3, 1, 1, Padding.SAME, Activation.IDENTITY), new LayerSpec.BatchNorm(),
            new LayerSpec.Activate(Activation.RELU),
            new LayerSpec.Conv2d(16, 1, 1, Padding.SAME, Activation.RELU), new LayerSpec.Pool(PoolType.MAX, 2, 2),
            new LayerSpec.Dropout(0.1), new LayerSpec.Output(10)));

    /**
     * The same with each batch norm before its ReLU, so that it folds into the conv before it: every depthwise
     * output then goes straight into the pointwise conv's int8 codes, and the int8 path runs the depthwise
     * convolution in integers too (a depthwise op whose output would become float stays float).
     */
    static final ModelSpec MOBILE_FOLD = new ModelSpec(List.of(
            new LayerSpec.Conv2d(8, 3, 2, Padding.SAME, Activation.IDENTITY), new LayerSpec.BatchNorm(),
            new LayerSpec.Activate(Activation.RELU),
            new LayerSpec.DepthwiseConv2d(3, 1, 1, Padding.SAME, Activation.IDENTITY),
            new LayerSpec.Conv2d(16, 1, 1, Padding.SAME, Activation.IDENTITY), new LayerSpec.BatchNorm(),
            new LayerSpec.Activate(Activation.RELU), new LayerSpec.Pool(PoolType.MAX, 2, 2),
            new LayerSpec.Dropout(0.1), new LayerSpec.Output(10)));

    static MultiLayerNetwork trained(ModelSpec spec, InputShape input, LabeledData train, int n, int epochs) {
        MultiLayerNetwork net = NetworkFactory.build(spec, input, new Adam(3e-3), 0, 7);
        INDArray x = train.features();
        INDArray y = train.oneHot();
        for (int e = 0; e < epochs; e++) {
            for (int from = 0; from < n; from += 64) {
                int to = Math.min(n, from + 64);
                net.fit(new DataSet(x.get(NDArrayIndex.interval(from, to), NDArrayIndex.all()),
                        y.get(NDArrayIndex.interval(from, to), NDArrayIndex.all())));
            }
        }
        return net;
    }

    private static float[][] rows(INDArray features) {
        float[][] rows = new float[(int) features.rows()][];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = features.getRow(i).toFloatVector();
        }
        return rows;
    }

    /**
     * The float path of {@code packed} against DL4J's {@code net} on the whole test split: the same class on
     * every example, probabilities within 1e-5. Returns DL4J's test accuracy.
     */
    private static double floatAgreement(String label, Model packed, Network net, ExperimentData data) {
        float[][] dl4j = rows(net.output(data.test().features()));
        int[] dl4jClass = Accuracy.predict(net, data.test().features());
        float[][] inputs = rows(data.test().features());
        double maxDiff = 0;
        int same = 0;
        for (int i = 0; i < inputs.length; i++) {
            float[] p = packed.predictPreprocessed(inputs[i]);
            for (int c = 0; c < p.length; c++) {
                maxDiff = Math.max(maxDiff, Math.abs(p[c] - dl4j[i][c]));
            }
            same += Model.argmax(p) == dl4jClass[i] ? 1 : 0;
        }
        double accuracy = Accuracy.of(dl4jClass, data.test().labels());
        System.out.printf(Locale.ROOT, "agreement %-22s float32: same class %d/%d, max |p diff| %.2e, DL4J accuracy "
                + "%.4f, %d ops%n", label, same, inputs.length, maxDiff, accuracy, packed.description().ops().size());
        assertEquals(inputs.length, same, label + ": float path, same class");
        assertTrue(maxDiff <= 1e-5, label + ": float path, max |probability difference| " + maxDiff);
        return accuracy;
    }

    /** Writes {@code net} packed (int8 post-training when asked), reads it back and checks it against DL4J. */
    private void check(String label, ExperimentConfig config, ExperimentData data, MultiLayerNetwork net,
            boolean int8) {
        check(label, config, data, net, int8, false);
    }

    /** As above; {@code depthwiseInInt8}: the int8 path must run the depthwise convs in integers too. */
    private void check(String label, ExperimentConfig config, ExperimentData data, MultiLayerNetwork net,
            boolean int8, boolean depthwiseInInt8) {
        Path floatFile = dir.resolve(label + ".packed");
        PackedModelFile.write(net, List.of(), List.of(), false, config.data().source().preprocessing(),
                config.data().source().classNames(), floatFile);
        Model fp32 = PackedModelFile.read(floatFile);
        assertEquals(Precision.FLOAT32, fp32.precision());
        int[] dl4jClass = Accuracy.predict(net, data.test().features());
        float[][] inputs = rows(data.test().features());
        double accuracy = floatAgreement(label, fp32, Network.of(net), data);
        if (!int8) {
            return;
        }
        // calibrated as `export --int8` does by default: 8 batches of the config's batch size
        Quantization.Outcome o = Quantization.postTrainingInt8(net, data.train().features(), config.data().batchSize(), 8);
        Path int8File = dir.resolve(label + "-int8.packed");
        PackedModelFile.write(o.net(), o.tensors(), o.activations(), false, config.data().source().preprocessing(),
                config.data().source().classNames(), int8File);
        Model ints = PackedModelFile.read(int8File);
        assertEquals(Precision.INT8, ints.precision(), label);
        for (String line : ints.summary().split("\\R")) {
            if (line.startsWith("conv2d") || line.startsWith("dense")
                    || depthwiseInInt8 && line.startsWith("depthwise_conv2d")) {
                assertTrue(line.endsWith("(int8)"), label + ": op not in int8: " + line);
            }
        }
        int[] intClass = new int[inputs.length];
        int sameInt = 0;
        int sameWeightsOnly = 0;
        Model weightsOnly = ints.withPrecision(Precision.FLOAT32);
        for (int i = 0; i < inputs.length; i++) {
            intClass[i] = ints.classifyPreprocessed(inputs[i]);
            sameInt += intClass[i] == dl4jClass[i] ? 1 : 0;
            sameWeightsOnly += weightsOnly.classifyPreprocessed(inputs[i]) == dl4jClass[i] ? 1 : 0;
        }
        System.out.printf(Locale.ROOT, "agreement %-22s int8 weights, float activations: same class %d/%d%n", label,
                sameWeightsOnly, inputs.length);
        double intAccuracy = Accuracy.of(intClass, data.test().labels());
        System.out.printf(Locale.ROOT, "agreement %-22s int8: same class %d/%d (%.2f%%), accuracy %.4f vs %.4f "
                + "(%+.2f points), file %d bytes vs %d%n", label, sameInt, inputs.length, 100.0 * sameInt / inputs.length,
                intAccuracy, accuracy, 100 * (intAccuracy - accuracy), int8File.toFile().length(),
                floatFile.toFile().length());
        assertTrue(sameInt >= 0.995 * inputs.length, label + ": int8 same class on " + sameInt);
        assertTrue(Math.abs(intAccuracy - accuracy) <= 0.002, label + ": int8 accuracy " + intAccuracy + " vs " + accuracy);
    }

    @Test
    void digitsStudentsAgreeOnTheTestSplit() {
        ExperimentConfig config = ConfigLoader.load(Path.of("../configs/digits-takd.yaml").toAbsolutePath().normalize());
        ExperimentData data = ExperimentData.load(config.data(), config.seed());
        InputShape input = InputShape.image(8, 8, 1);
        int n = data.train().size();
        check("digits-mlp", config, data, trained(MLP, input, data.train(), n, 5), false);
        check("digits-cnn", config, data, trained(CNN, input, data.train(), n, 5), false);
        check("digits-mobile", config, data, trained(MOBILE, input, data.train(), n, 5), false);
        check("digits-separable", config, data, trained(SEPARABLE, input, data.train(), n, 5), false);
    }

    /** The zoo's graph student {@code name} at width 0.5 on digits, 3 epochs of Adam 3e-3 in batches of 64. */
    static Network.Graph trainedGraph(String name, ExperimentData data) {
        Network.Graph net = (Network.Graph) Networks.build(Zoo.spec(name, 0.5, 1, 10), InputShape.image(8, 8, 1),
                new Adam(3e-3), 0, 7, new LossMCXENT());
        INDArray x = data.train().features();
        INDArray y = data.train().oneHot();
        for (int e = 0; e < 3; e++) {
            for (int from = 0; from < data.train().size(); from += 64) {
                int to = Math.min(data.train().size(), from + 64);
                net.fit(new DataSet(x.get(NDArrayIndex.interval(from, to), NDArrayIndex.all()),
                        y.get(NDArrayIndex.interval(from, to), NDArrayIndex.all())));
            }
        }
        return net;
    }

    /** The zoo's graph students (residual, concat, group convolution with shuffle, separable blocks), float32. */
    @Test
    void zooGraphStudentsAgreeOnTheDigitsTestSplit() throws Exception {
        ExperimentConfig config = ConfigLoader.load(Path.of("../configs/digits-takd.yaml").toAbsolutePath().normalize());
        ExperimentData data = ExperimentData.load(config.data(), config.seed());
        for (String name : List.of("resnet-tiny", "shufflenet-tiny", "mobilenet-tiny")) {
            Network.Graph net = trainedGraph(name, data);
            Path file = dir.resolve(name + ".packed");
            PackedModelFile.write(net, config.data().source().preprocessing(), config.data().source().classNames(),
                    file);
            floatAgreement("digits-" + name, PackedModelFile.read(file), net, data);
        }
    }

    @Test
    void fashionMnistStudentsAgreeOnTheTestSplitInFloatAndInt8() {
        ExperimentConfig config = ConfigLoader.load(
                Path.of("../configs/fashion-mnist-takd.yaml").toAbsolutePath().normalize());
        ExperimentData data = ExperimentData.load(config.data(), config.seed());
        InputShape input = InputShape.image(28, 28, 1);
        check("fashion-mlp", config, data, trained(MLP, input, data.train(), 12000, 1), true);
        check("fashion-cnn", config, data, trained(CNN, input, data.train(), 12000, 2), true);
        check("fashion-mobile", config, data, trained(MOBILE_FLAT, input, data.train(), 12000, 2), true);
        check("fashion-mobile-fold", config, data, trained(MOBILE_FOLD, input, data.train(), 12000, 2), true, true);
    }
}
