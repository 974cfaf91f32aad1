package dev.distill.core.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.data.LabeledData;
import dev.distill.core.testing.TinyData;
import dev.distill.models.network.Network;
import dev.distill.models.network.Networks;
import dev.distill.models.spec.InputShape;
import dev.distill.models.zoo.Zoo;
import dev.distill.runtime.Model;
import dev.distill.runtime.Op;
import dev.distill.runtime.Preprocessing;
import dev.distill.runtime.QuantizedTensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * The zoo's graph students quantized after training (int8 and 4-bit k-means), written packed and run by
 * distill-runtime: the file computes what the DL4J graph with the dequantized weights computes, and its
 * weights are stored at the scheme's width.
 */
class GraphQuantizationTest {

    @TempDir
    Path dir;

    static final LabeledData DATA = TinyData.blobs(320, 64, 10, 5);

    /** A zoo graph on 8x8 images, trained two epochs on Gaussian blobs so that its classes are decided. */
    static Network.Graph trained(String name) {
        Network.Graph net = (Network.Graph) Networks.build(Zoo.spec(name, 0.5, 1, 10), InputShape.image(8, 8, 1),
                new Adam(3e-3), 0, 7, new LossMCXENT());
        for (int epoch = 0; epoch < 2; epoch++) {
            for (int from = 0; from < DATA.size(); from += 32) {
                int to = Math.min(DATA.size(), from + 32);
                net.fit(new DataSet(DATA.features().get(NDArrayIndex.interval(from, to), NDArrayIndex.all()),
                        DATA.oneHot().get(NDArrayIndex.interval(from, to), NDArrayIndex.all())));
            }
        }
        return net;
    }

    static QuantSettings settings(QuantSettings.Scheme scheme, int bits, int fineTuneEpochs) {
        return new QuantSettings(scheme, bits, true, true, QuantSettings.Calibration.MINMAX, 99.99, 10,
                QuantSettings.Init.LINEAR, fineTuneEpochs, false, true);
    }

    @Test
    void quantizedGraphsRunInTheRuntimeAsTheirDl4jGraphsDo() throws Exception {
        for (String name : List.of("resnet-tiny", "shufflenet-tiny", "mobilenet-tiny")) {
            Network.Graph graph = trained(name);
            Path floats = dir.resolve(name + ".packed");
            PackedModelFile.write(graph, Preprocessing.NONE, List.of(), floats);
            for (QuantSettings s : List.of(settings(QuantSettings.Scheme.INT8, 8, 0),
                    settings(QuantSettings.Scheme.KMEANS, 4, 0))) {
                String label = name + " " + s.scheme() + s.bits();
                Quantization.GraphOutcome o = Quantization.postTraining(graph, s, 3);
                Path file = dir.resolve(name + "-" + s.scheme() + ".packed");
                PackedModelFile.write(o.graph(), o.tensors(), s.huffman(), Preprocessing.NONE, List.of(), file);
                Model packed = Model.load(file);

                int weighted = 0;
                for (Op op : packed.description().ops()) {
                    QuantizedTensor w = op.weights();
                    if (w == null || w.kind() == QuantizedTensor.Kind.FLOAT) {
                        continue;
                    }
                    weighted++;
                    assertEquals(s.bits(), w.bits(), label + " " + w.key());
                    if (s.scheme() == QuantSettings.Scheme.KMEANS) {
                        assertTrue(w.codebook().length <= 16, label + " " + w.key());
                    }
                }
                assertTrue(weighted >= 3, label + ": " + weighted + " quantized weight tensors");
                // shufflenet's hundreds of one-channel ops keep their headers: 0.55 of the float file at int8
                assertTrue(Files.size(file) < 0.6 * Files.size(floats), label + ": " + Files.size(file) + " vs float "
                        + Files.size(floats));

                INDArray probabilities = o.graph().output(DATA.features());
                double maxDifference = 0;
                for (int i = 0; i < DATA.size(); i++) {
                    float[] runtime = packed.predictPreprocessed(DATA.features().getRow(i).toFloatVector());
                    float[] dl4j = probabilities.getRow(i).toFloatVector();
                    assertEquals(Model.argmax(dl4j), Model.argmax(runtime), label + " example " + i);
                    for (int c = 0; c < runtime.length; c++) {
                        maxDifference = Math.max(maxDifference, Math.abs(runtime[c] - dl4j[c]));
                    }
                }
                assertTrue(maxDifference <= 1e-5, label + ": " + maxDifference);
            }
        }
    }

    @Test
    void theInputGraphIsNotChanged() {
        Network.Graph graph = trained("resnet-tiny");
        INDArray before = graph.params().dup();
        Quantization.postTraining(graph, settings(QuantSettings.Scheme.KMEANS, 2, 0), 3);
        assertEquals(before, graph.params());
    }

    @Test
    void fineTuningAGraphIsRefusedInOneLine() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Quantization.postTraining(
                trained("resnet-tiny"), settings(QuantSettings.Scheme.KMEANS, 4, 2), 3));
        assertTrue(e.getMessage().contains("fine_tune_epochs must be 0"), e.getMessage());
    }
}
