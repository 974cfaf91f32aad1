package dev.distill.models.network;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * A trainable DL4J network of either shape: a sequential {@link MultiLayerNetwork} or a
 * {@link ComputationGraph} with one input and one output. The training loop, teacher logits,
 * checkpoints, model files and evaluation work on this type; each method calls exactly the DL4J
 * method the sequential code called before graphs existed, so sequential results are unchanged bit
 * for bit.
 */
public sealed interface Network permits Network.Sequential, Network.Graph {

    /** The DL4J object, for {@code ModelSerializer} and anything else that takes either. */
    Model model();

    /** One optimizer step on a mini-batch. */
    void fit(DataSet batch);

    /** The loss of the last {@link #fit} batch. */
    double score();

    /** Outputs (softmax probabilities) in inference mode: dropout off, batch norm's running statistics. */
    INDArray output(INDArray features);

    INDArray params();

    void setParams(INDArray params);

    long numParams();

    /** DL4J's per-epoch counter, which learning-rate schedules read; {@code fit(DataSet)} does not advance it. */
    void incrementEpochCount();

    int iterationCount();

    int epochCount();

    /** Sets the iteration and epoch counters (a checkpoint's). */
    void setCounts(int iterations, int epochs);

    /** The optimizer's state as one flat array (null for an updater without state). */
    INDArray updaterState();

    void setUpdaterState(INDArray state);

    /**
     * Puts {@code saved}'s parameters, optimizer state and iteration and epoch counters into this network, built
     * from the same specification (so that whatever the builder sets up beyond the saved configuration is there
     * too): how a checkpoint's network, and any network trained beside it, comes back.
     *
     * @throws IllegalArgumentException if {@code saved} is of another kind or size, in a sentence that follows
     *                                  what holds it ("...: holds a ...")
     */
    default void copyTrainingStateFrom(Network saved) {
        if (numParams() != saved.numParams() || !kind().equals(saved.kind())) {
            throw new IllegalArgumentException("holds a " + saved.kind() + " model with " + saved.numParams()
                    + " parameters but the model is a " + kind() + " with " + numParams()
                    + "; was the model's configuration changed?");
        }
        setParams(saved.params().dup());
        INDArray updaterState = saved.updaterState();
        if (updaterState != null) {
            setUpdaterState(updaterState.dup());
        }
        setCounts(saved.iterationCount(), saved.epochCount());
    }

    /** Puts the conv backend's helpers into the layers (new and restored networks lack them). */
    void applyConvBackend();

    /** DL4J's layers (for a graph, its layer vertices in topological order). */
    org.deeplearning4j.nn.api.Layer[] layers();

    /** Kind of network, for messages: {@code sequential} or {@code graph}. */
    String kind();

    /** Each layer's output for {@code features} in inference mode, by layer (what a cost count needs). */
    Map<org.deeplearning4j.nn.api.Layer, INDArray> layerOutputs(INDArray features);

    /** The sequential network, or a one-line error saying that {@code what} handles only those. */
    default MultiLayerNetwork sequential(String what) {
        if (this instanceof Sequential s) {
            return s.net();
        }
        throw new IllegalArgumentException(what + " supports sequential models (layers:) only, not graph models");
    }

    static Network of(MultiLayerNetwork net) {
        return new Sequential(net);
    }

    static Network of(ComputationGraph graph) {
        return new Graph(graph);
    }

    /** A network read from DL4J's zip format, sequential or graph as the file says. */
    static Network restore(byte[] zip, boolean loadUpdater) throws IOException {
        dev.distill.models.nd4j.NativeSafety.install();
        if (isGraph(zip)) {
            return of(ModelSerializer.restoreComputationGraph(new ByteArrayInputStream(zip), loadUpdater));
        }
        return of(ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(zip), loadUpdater));
    }

    /** Whether a DL4J model zip holds a ComputationGraph: its configuration lists vertices. */
    static boolean isGraph(byte[] zip) throws IOException {
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
            for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
                if (e.getName().equals("configuration.json")) {
                    String json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                    return json.contains("\"vertices\"") && json.contains("\"networkInputs\"");
                }
            }
        }
        return false;
    }

    /** A {@link MultiLayerNetwork}. */
    record Sequential(MultiLayerNetwork net) implements Network {
        public Model model() {
            return net;
        }

        public void fit(DataSet batch) {
            net.fit(batch);
        }

        public double score() {
            return net.score();
        }

        public INDArray output(INDArray features) {
            return net.output(features, false);
        }

        public INDArray params() {
            return net.params();
        }

        public void setParams(INDArray params) {
            net.setParams(params);
        }

        public long numParams() {
            return net.numParams();
        }

        public void incrementEpochCount() {
            net.incrementEpochCount();
        }

        public int iterationCount() {
            return net.getIterationCount();
        }

        public int epochCount() {
            return net.getEpochCount();
        }

        public void setCounts(int iterations, int epochs) {
            net.setIterationCount(iterations);
            net.setEpochCount(epochs);
        }

        public INDArray updaterState() {
            return net.getUpdater().getStateViewArray();
        }

        public void setUpdaterState(INDArray state) {
            net.getUpdater().setStateViewArray(net, state, false);
        }

        public void applyConvBackend() {
            ConvBackend.DEFAULT.apply(net);
        }

        public String kind() {
            return "sequential";
        }

        public Map<org.deeplearning4j.nn.api.Layer, INDArray> layerOutputs(INDArray features) {
            java.util.List<INDArray> activations = net.feedForward(features, false);   // [input, layer 0, ...]
            Map<org.deeplearning4j.nn.api.Layer, INDArray> out = new java.util.IdentityHashMap<>();   // a layer hashes its input
            for (int i = 0; i < net.getnLayers(); i++) {
                out.put(net.getLayer(i), activations.get(i + 1));
            }
            return out;
        }

        public org.deeplearning4j.nn.api.Layer[] layers() {
            return net.getLayers();
        }
    }

    /** A {@link ComputationGraph} with one input and one output. */
    record Graph(ComputationGraph graph) implements Network {
        public Model model() {
            return graph;
        }

        public void fit(DataSet batch) {
            graph.fit(batch);
        }

        public double score() {
            return graph.score();
        }

        public INDArray output(INDArray features) {
            return graph.outputSingle(false, features);
        }

        public INDArray params() {
            return graph.params();
        }

        public void setParams(INDArray params) {
            graph.setParams(params);
        }

        public long numParams() {
            return graph.numParams();
        }

        public void incrementEpochCount() {
            graph.incrementEpochCount();
        }

        public int iterationCount() {
            return graph.getIterationCount();
        }

        public int epochCount() {
            return graph.getEpochCount();
        }

        public void setCounts(int iterations, int epochs) {
            // the graph copies them into its layers at the start of the next fit
            graph.getConfiguration().setIterationCount(iterations);
            graph.getConfiguration().setEpochCount(epochs);
        }

        public INDArray updaterState() {
            return graph.getUpdater().getStateViewArray();
        }

        public void setUpdaterState(INDArray state) {
            graph.getUpdater().setStateViewArray(state);
        }

        public void applyConvBackend() {
            ConvBackend.DEFAULT.apply(graph);
        }

        public String kind() {
            return "graph";
        }

        public Map<org.deeplearning4j.nn.api.Layer, INDArray> layerOutputs(INDArray features) {
            Map<String, INDArray> activations = graph.feedForward(features, false);   // by vertex name
            Map<org.deeplearning4j.nn.api.Layer, INDArray> out = new java.util.IdentityHashMap<>();   // a layer hashes its input
            for (org.deeplearning4j.nn.api.Layer layer : graph.getLayers()) {
                out.put(layer, activations.get(layer.conf().getLayer().getLayerName()));
            }
            return out;
        }

        public org.deeplearning4j.nn.api.Layer[] layers() {
            return graph.getLayers();
        }

        /**
         * A copy sharing no state, whose output layer has {@code activation} and (when not null)
         * {@code loss}, and the conv backend's helpers: what teacher logits (identity output) and
         * shipped files (softmax with cross-entropy) need.
         */
        public Graph withOutput(org.nd4j.linalg.activations.IActivation activation,
                org.nd4j.linalg.lossfunctions.ILossFunction loss) {
            org.deeplearning4j.nn.conf.ComputationGraphConfiguration conf = graph.getConfiguration().clone();
            String out = conf.getNetworkOutputs().get(0);
            org.deeplearning4j.nn.conf.layers.Layer layer =
                    ((org.deeplearning4j.nn.conf.graph.LayerVertex) conf.getVertices().get(out)).getLayerConf().getLayer();
            if (!(layer instanceof org.deeplearning4j.nn.conf.layers.BaseOutputLayer output)) {
                throw new IllegalArgumentException("the graph's output vertex " + out + " is not an output layer");
            }
            output.setActivationFn(activation);
            if (loss != null) {
                output.setLossFn(loss);
            }
            conf.setValidateOutputLayerConfig(false);
            ComputationGraph copy = new ComputationGraph(conf);
            copy.init(graph.params().dup(), false);
            ConvBackend.DEFAULT.apply(copy);
            return new Graph(copy);
        }
    }
}
