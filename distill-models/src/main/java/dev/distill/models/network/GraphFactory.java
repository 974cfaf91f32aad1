package dev.distill.models.network;

import dev.distill.models.spec.BlockSpec;
import dev.distill.models.spec.BlockSpec.Add;
import dev.distill.models.spec.BlockSpec.Bottleneck;
import dev.distill.models.spec.BlockSpec.Concat;
import dev.distill.models.spec.BlockSpec.DenseBlock;
import dev.distill.models.spec.BlockSpec.GroupConv;
import dev.distill.models.spec.BlockSpec.Residual;
import dev.distill.models.spec.BlockSpec.Separable;
import dev.distill.models.spec.GraphSpec;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.LayerSpec.Padding;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration.GraphBuilder;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.graph.PreprocessorVertex;
import org.deeplearning4j.nn.conf.graph.SubsetVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.ILossFunction;

/**
 * Builds a DL4J {@link ComputationGraph} from a {@link GraphSpec}. Each block becomes one or more
 * vertices; the vertex that gives a block's output carries the block's name (internal ones are
 * {@code <block>/<part>}), so the graph reads like the config. Only DL4J's own layers and vertices
 * are used, so a saved graph loads with plain DL4J.
 *
 * <p>DL4J has no group convolution: a {@code group_conv} block is built from a {@link SubsetVertex}
 * per input channel merged into groups (see {@code channelsOf} for why not one subset per group), a
 * convolution per group, and a {@link MergeVertex}; the channel shuffle is one single-channel
 * {@link SubsetVertex} per output channel merged in shuffled order. That is some copying, cheap
 * beside the convolutions at the widths these blocks are for.
 */
public final class GraphFactory {

    static {
        // ND4J ops kept alive through their native calls (a training could otherwise die in native code)
        dev.distill.models.nd4j.NativeSafety.install();
    }


    private GraphFactory() {
    }

    /** A new, initialised graph; the arguments mean what they mean for {@link NetworkFactory#build}. */
    public static ComputationGraph build(GraphSpec spec, InputShape input, IUpdater updater, double weightDecay,
            long seed, ILossFunction outputLoss) {
        GraphBuilder g = NetworkFactory.settings(updater, weightDecay, seed).graphBuilder().addInputs(GraphSpec.INPUT);
        g.setInputTypes(InputType.feedForward(input.size()));
        String source = GraphSpec.INPUT;
        if (input.image()) {
            // data is held flat; every block below sees the image, whatever vertex comes first
            source = "input_image";
            g.addVertex(source, new PreprocessorVertex(
                    new FeedForwardToCnnPreProcessor(input.height(), input.width(), input.channels())), GraphSpec.INPUT);
        }
        Map<String, Integer> channels = new HashMap<>();
        channels.put(GraphSpec.INPUT, input.channels());
        Map<String, String> vertexOf = new HashMap<>();
        vertexOf.put(GraphSpec.INPUT, source);
        for (GraphSpec.Node node : spec.nodes()) {
            String[] in = node.inputs().stream().map(vertexOf::get).toArray(String[]::new);
            int c = node.inputs().stream().mapToInt(channels::get).sum();
            new Blocks(g, node.name()).add(node.spec(), in, c, outputLoss);
            vertexOf.put(node.name(), node.name());
            channels.put(node.name(), outputChannels(node.spec(), c, channels.get(node.inputs().get(0))));
        }
        g.setOutputs(spec.outputName());
        ComputationGraphConfiguration conf = g.build();
        ComputationGraph graph = new ComputationGraph(conf);
        graph.init();
        ConvBackend.DEFAULT.apply(graph);
        return graph;
    }

    /** Channels a block gives (only image blocks' counts are ever read). */
    private static int outputChannels(BlockSpec spec, int summedInputs, int firstInput) {
        if (spec instanceof Separable s) {
            return s.filters();
        } else if (spec instanceof Bottleneck b) {
            return b.filters();
        } else if (spec instanceof Residual r) {
            return r.filters();
        } else if (spec instanceof DenseBlock d) {
            return firstInput + d.layers() * d.growth();
        } else if (spec instanceof GroupConv gc) {
            return gc.filters();
        } else if (spec instanceof Concat) {
            return summedInputs;
        } else if (spec instanceof Add) {
            return firstInput;
        }
        BlockSpec.Layer l = (BlockSpec.Layer) spec;
        if (l.layer() instanceof dev.distill.models.spec.LayerSpec.Conv2d c) {
            return c.filters();
        } else if (l.layer() instanceof dev.distill.models.spec.LayerSpec.RectConv2d c) {
            return c.filters();
        } else if (l.layer() instanceof dev.distill.models.spec.LayerSpec.SeparableConv2d s) {
            return s.filters();
        } else if (l.layer() instanceof dev.distill.models.spec.LayerSpec.DepthwiseConv2d d) {
            return firstInput * d.multiplier();
        }
        return firstInput;
    }

    /** Adds the vertices of one block named {@code name}. */
    private record Blocks(GraphBuilder g, String name) {

        void add(BlockSpec spec, String[] in, int channels, ILossFunction outputLoss) {
            if (spec instanceof BlockSpec.Layer l) {
                g.addLayer(name, NetworkFactory.toDl4j(l.layer(), outputLoss), in);
            } else if (spec instanceof Add) {
                g.addVertex(name, new ElementWiseVertex(ElementWiseVertex.Op.Add), in);
            } else if (spec instanceof Concat) {
                g.addVertex(name, new MergeVertex(), in);
            } else if (spec instanceof Separable s) {
                g.addLayer(name + "/dw", new DepthwiseConvolution2D.Builder(s.kernel(), s.kernel())
                        .stride(s.stride(), s.stride()).depthMultiplier(1).hasBias(false)
                        .convolutionMode(NetworkFactory.mode(Padding.SAME)).activation(Activation.IDENTITY).build(), in);
                bn(name + "/dw_bn", s.activation(), name + "/dw");
                conv(name + "/pw", 1, 1, s.filters(), name + "/dw_bn");
                bn(name, s.activation(), name + "/pw");
            } else if (spec instanceof Bottleneck b) {
                conv(name + "/reduce", 1, 1, b.reduce(), in);
                bn(name + "/reduce_bn", b.activation(), name + "/reduce");
                conv(name + "/conv", b.kernel(), b.stride(), b.filters(), name + "/reduce_bn");
                bn(name, b.activation(), name + "/conv");
            } else if (spec instanceof Residual r) {
                conv(name + "/conv1", r.kernel(), r.stride(), r.filters(), in);
                bn(name + "/bn1", r.activation(), name + "/conv1");
                conv(name + "/conv2", r.kernel(), 1, r.filters(), name + "/bn1");
                bn(name + "/bn2", dev.distill.models.spec.Activation.IDENTITY, name + "/conv2");
                String shortcut = in[0];
                if (GraphSpec.projects(r, channels)) {
                    conv(name + "/proj", 1, r.stride(), r.filters(), in);
                    bn(name + "/proj_bn", dev.distill.models.spec.Activation.IDENTITY, name + "/proj");
                    shortcut = name + "/proj_bn";
                }
                g.addVertex(name + "/add", new ElementWiseVertex(ElementWiseVertex.Op.Add), name + "/bn2", shortcut);
                g.addLayer(name, new ActivationLayer.Builder().activation(r.activation().dl4j()).build(), name + "/add");
            } else if (spec instanceof DenseBlock d) {
                List<String> features = new ArrayList<>(List.of(in));
                for (int layer = 1; layer <= d.layers(); layer++) {
                    String reads = features.get(0);
                    if (features.size() > 1) {
                        reads = name + "/cat" + layer;
                        g.addVertex(reads, new MergeVertex(), features.toArray(String[]::new));
                    }
                    bn(name + "/bn" + layer, d.activation(), reads);
                    conv(name + "/conv" + layer, d.kernel(), 1, d.growth(), name + "/bn" + layer);
                    features.add(name + "/conv" + layer);
                }
                g.addVertex(name, new MergeVertex(), features.toArray(String[]::new));
            } else if (spec instanceof GroupConv gc) {
                groupConv(gc, in[0], channels);
            } else {
                throw new IllegalArgumentException("no DL4J vertices for " + spec);
            }
        }

        private void groupConv(GroupConv gc, String in, int channels) {
            int groups = gc.groups();
            int perGroupIn = channels / groups;
            int perGroupOut = gc.filters() / groups;
            // one group has nothing to shuffle
            boolean shuffle = gc.shuffle() && groups > 1;
            List<String> convs = new ArrayList<>();
            for (int j = 0; j < groups; j++) {
                String reads = in;
                if (groups > 1) {
                    reads = name + "/split" + j;
                    channelsOf(reads, in, j * perGroupIn, perGroupIn);
                }
                String conv = groups == 1 ? name : name + "/conv" + j;
                g.addLayer(conv, new ConvolutionLayer.Builder(gc.kernel(), gc.kernel())
                        .stride(gc.stride(), gc.stride()).nIn(perGroupIn).nOut(perGroupOut)
                        .convolutionMode(NetworkFactory.mode(Padding.SAME)).activation(gc.activation().dl4j()).build(),
                        reads);
                convs.add(conv);
            }
            if (groups == 1) {
                return;
            }
            if (!shuffle) {
                g.addVertex(name, new MergeVertex(), convs.toArray(String[]::new));
                return;
            }
            // output channel i*groups + j is channel i of group j
            List<String> shuffled = new ArrayList<>();
            for (int i = 0; i < perGroupOut; i++) {
                for (int j = 0; j < groups; j++) {
                    String channel = name + "/ch" + (i * groups + j);
                    g.addVertex(channel, new SubsetVertex(i, i), convs.get(j));
                    shuffled.add(channel);
                }
            }
            g.addVertex(name, new MergeVertex(), shuffled.toArray(String[]::new));
        }

        /**
         * Channels {@code from .. from + count - 1} of {@code in} as vertex {@code vertex}. One
         * single-channel {@link SubsetVertex} each, merged: in DL4J 1.0.0-M2.1 a SubsetVertex over
         * several channels of an image computes the right values but declares {@code from - to + 1}
         * channels to the layers after it, which then get no inputs.
         */
        private void channelsOf(String vertex, String in, int from, int count) {
            if (count == 1) {
                g.addVertex(vertex, new SubsetVertex(from, from), in);
                return;
            }
            String[] parts = new String[count];
            for (int c = 0; c < count; c++) {
                parts[c] = vertex + "_" + c;
                g.addVertex(parts[c], new SubsetVertex(from + c, from + c), in);
            }
            g.addVertex(vertex, new MergeVertex(), parts);
        }

        private void conv(String vertex, int kernel, int stride, int filters, String... in) {
            g.addLayer(vertex, new ConvolutionLayer.Builder(kernel, kernel).stride(stride, stride).nOut(filters)
                    .hasBias(false).convolutionMode(NetworkFactory.mode(Padding.SAME))
                    .activation(Activation.IDENTITY).build(), in);
        }

        private void bn(String vertex, dev.distill.models.spec.Activation activation, String in) {
            g.addLayer(vertex, new BatchNormalization.Builder().activation(activation.dl4j()).build(), in);
        }
    }
}
