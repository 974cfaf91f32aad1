package dev.distill.core.quant;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration.ListBuilder;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The packed file's architecture: for a network of dense layers a compact JSON of our own
 * ({@code {"layers":[{"type":"dense","in":784,"out":32,"activation":"RELU"}, ...]}}, about 150 bytes);
 * anything else as DL4J's configuration JSON. Why: DL4J's JSON of the 2-layer student is kilobytes,
 * more than a tenth of its INT8 weights.
 */
final class Architecture {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One dense or output layer: inputs, outputs and DL4J's activation name. */
    record DenseLayerSpec(String type, int in, int out, String activation) {
    }

    /** The compact form. */
    record Dense(List<DenseLayerSpec> layers) {
    }

    private Architecture() {
    }

    /** The compact JSON of {@code net} (softmax output with cross-entropy), or null if it is not a plain dense network. */
    static String compact(MultiLayerNetwork net) {
        MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
        if (!conf.getInputPreProcessors().isEmpty()) {
            return null;
        }
        List<DenseLayerSpec> layers = new ArrayList<>();
        for (int i = 0; i < conf.getConfs().size(); i++) {
            Layer layer = conf.getConf(i).getLayer();
            boolean output = layer instanceof OutputLayer;
            if (!(output || (layer instanceof DenseLayer && layer.getClass() == DenseLayer.class))) {
                return null;
            }
            String activation = name(((BaseLayer) layer).getActivationFn());
            if (activation == null || (output && i != conf.getConfs().size() - 1)) {
                return null;
            }
            org.deeplearning4j.nn.conf.layers.FeedForwardLayer ff = (org.deeplearning4j.nn.conf.layers.FeedForwardLayer) layer;
            layers.add(new DenseLayerSpec(output ? "output" : "dense", (int) ff.getNIn(), (int) ff.getNOut(),
                    output ? Activation.SOFTMAX.name() : activation));
        }
        try {
            return JSON.writeValueAsString(new Dense(layers));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The layers of a compact architecture. */
    static List<DenseLayerSpec> parse(String json) throws java.io.IOException {
        List<DenseLayerSpec> layers = JSON.readValue(json, Dense.class).layers();
        if (layers == null || layers.isEmpty()) {
            throw new java.io.IOException("architecture without layers");
        }
        return layers;
    }

    /** A new, initialised network for a compact architecture. */
    static MultiLayerNetwork build(List<DenseLayerSpec> layers) {
        ListBuilder list = new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT).list();
        for (DenseLayerSpec l : layers) {
            Activation activation = Activation.valueOf(l.activation());
            if (l.type().equals("output")) {
                list.layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(l.in()).nOut(l.out())
                        .activation(activation).build());
            } else if (l.type().equals("dense")) {
                list.layer(new DenseLayer.Builder().nIn(l.in()).nOut(l.out()).activation(activation).build());
            } else {
                throw new IllegalArgumentException("unknown layer type '" + l.type() + "'");
            }
        }
        MultiLayerNetwork net = new MultiLayerNetwork(list.build());
        net.init();
        return net;
    }

    /** DL4J's name for an activation function with default settings, or null. */
    private static String name(IActivation fn) {
        for (Activation a : Activation.values()) {
            try {
                if (a.getActivationFunction().equals(fn)) {
                    return a.name();
                }
            } catch (RuntimeException unsupported) {
                // some enum values have no function object in this release
            }
        }
        return null;
    }
}
