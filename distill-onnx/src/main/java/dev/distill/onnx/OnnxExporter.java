package dev.distill.onnx;

import dev.distill.core.DistillException;
import dev.distill.core.io.ModelFiles;
import dev.distill.runtime.ActivationFunction;
import dev.distill.runtime.QuantizedTensor;
import dev.distill.models.network.Network;
import dev.distill.onnx.OnnxGraph.Attr;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import onnx.Onnx.ModelProto;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.graph.PreprocessorVertex;
import org.deeplearning4j.nn.conf.graph.SubsetVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationELU;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.activations.impl.ActivationSwish;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Writes a trained DL4J {@link Network} (sequential or graph) as an ONNX model, built with the ONNX
 * protobuf classes that ship inside nd4j-api.
 *
 * <p>The contract of the exported model, the same as the DL4J network's:
 * <ul>
 *   <li>input {@value #INPUT}: float {@code [batch, features]}, the flat vectors distill feeds its
 *       models, already preprocessed (scaled); images flattened channels first (c, h, w) and reshaped
 *       to NCHW inside the graph. The preprocessing is not in the graph but in the model's metadata
 *       ({@value #META_SCALE}: what raw values were multiplied by), so the ONNX model and the DL4J
 *       model agree on every input;</li>
 *   <li>output {@value #PROBABILITIES}: the softmax output {@code [batch, classes]}, and
 *       {@value #LOGITS}: its input, for a distiller that wants logits.</li>
 * </ul>
 * Inference only: dropout is left out and batch norm uses its running statistics.
 */
public final class OnnxExporter {

    public static final String INPUT = "input";
    public static final String PROBABILITIES = "probabilities";
    public static final String LOGITS = "logits";
    /** Metadata: the factor raw inputs were multiplied by before they reach {@value #INPUT}. */
    public static final String META_SCALE = "distill.input_scale";
    /** Metadata: how the flat input is laid out, e.g. {@code image 1x8x8 (c,h,w), flattened}. */
    public static final String META_INPUT = "distill.input_layout";
    /** ONNX opset written: 13 has every op used here in its input-based form (Clip, Slice, Reshape). */
    static final int OPSET = 13;

    private OnnxExporter() {
    }

    /**
     * The ONNX model of {@code net}, with {@code metadata} as its metadata_props (see
     * {@link #META_SCALE}).
     *
     * @throws DistillException for a layer, vertex or setting this exporter has no ONNX ops for (the
     *                          message names it)
     */
    public static ModelProto export(Network net, Map<String, String> metadata) {
        return export(net, metadata, List.of());
    }

    /**
     * As {@link #export(Network, Map)}, with quantized tensors of {@code net} (a {@code Quantization}
     * outcome: {@code net} holds their dequantized values; a packed file goes through
     * {@link PackedOnnxExporter}, it has no DL4J network): linear (INT8, 2..8 bits) dense, output and conv weights are written as int8
     * initializers with per-channel scales and zero points behind a DequantizeLinear (QDQ, weights only;
     * activations stay float), which gives exactly the dequantized values; k-means, binary and other
     * tensors are written as the dequantized floats {@code net} holds.
     */
    public static ModelProto export(Network net, Map<String, String> metadata, List<QuantizedTensor> quantized) {
        Exporter e = new Exporter(new OnnxGraph("distill"));
        for (QuantizedTensor t : quantized) {
            e.quantized.put(t.key(), t);
        }
        if (net instanceof Network.Sequential s) {
            e.sequential(s.net());
        } else {
            e.graph(((Network.Graph) net).graph());
        }
        return e.g.model(metadata);
    }

    /** Exports {@code net} to {@code file} (written atomically: a failed export leaves no file). */
    public static void write(Network net, Map<String, String> metadata, Path file) {
        byte[] bytes = export(net, metadata).toByteArray();
        ModelFiles.writeAtomically(file, tmp -> Files.write(tmp, bytes));
    }

    /** One export: the graph being built and where each DL4J tensor went. */
    private static final class Exporter {
        final OnnxGraph g;
        /** The ONNX tensor holding the input of the output layer's softmax, once seen. */
        String logits;
        /** A packed model's tensors by DL4J parameter key ({@code 0_W}); empty for a float model. */
        final Map<String, QuantizedTensor> quantized = new HashMap<>();
        /** The parameter key prefix of the sequential layer being exported ({@code 3_}), or null. */
        String paramPrefix;

        Exporter(OnnxGraph g) {
            this.g = g;
        }

        void sequential(MultiLayerNetwork net) {
            MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
            g.input(INPUT, inputFeatures(conf.getInputPreProcess(0), conf.getConf(0).getLayer()));
            String x = INPUT;
            for (int i = 0; i < net.getnLayers(); i++) {
                String name = "layer" + i;
                x = preprocess(conf.getInputPreProcess(i), x, name);
                paramPrefix = i + "_";
                x = layer(conf.getConf(i).getLayer(), net.getLayer(i), x, name);
            }
            outputs(x, net.getLayer(net.getnLayers() - 1).conf().getLayer());
        }

        void graph(ComputationGraph graph) {
            ComputationGraphConfiguration conf = graph.getConfiguration();
            if (conf.getNetworkInputs().size() != 1 || conf.getNetworkOutputs().size() != 1) {
                throw new DistillException("ONNX export: graphs with one input and one output only, this one has "
                        + conf.getNetworkInputs() + " -> " + conf.getNetworkOutputs());
            }
            String inputName = conf.getNetworkInputs().get(0);
            g.input(INPUT, graphInputFeatures(conf, inputName));
            Map<String, String> tensorOf = new HashMap<>();
            tensorOf.put(inputName, INPUT);
            for (int index : graph.topologicalSortOrder()) {
                String name = graph.getVertices()[index].getVertexName();
                if (name.equals(inputName)) {
                    continue;
                }
                List<String> in = new ArrayList<>();
                for (String v : conf.getVertexInputs().get(name)) {
                    in.add(tensorOf.get(v));
                }
                tensorOf.put(name, vertex(conf.getVertices().get(name), graph, name, in));
            }
            String out = conf.getNetworkOutputs().get(0);
            outputs(tensorOf.get(out), graph.getLayer(out).conf().getLayer());
        }

        /** The graph's outputs: the network's output as {@value #PROBABILITIES}, its logits as {@value #LOGITS}. */
        void outputs(String x, Layer last) {
            if (!(last instanceof BaseOutputLayer out) || logits == null) {
                throw new DistillException("ONNX export: the network must end in an output layer, found "
                        + last.getClass().getSimpleName());
            }
            g.outputs(x, logits, out.getNOut());
        }

        String vertex(GraphVertex v, ComputationGraph graph, String name, List<String> in) {
            if (v instanceof LayerVertex lv) {
                String x = preprocess(lv.getPreProcessor(), single(name, in), name);
                return layer(lv.getLayerConf().getLayer(), graph.getLayer(name), x, name);
            } else if (v instanceof PreprocessorVertex pv) {
                return preprocess(pv.getPreProcessor(), single(name, in), name);
            } else if (v instanceof ElementWiseVertex ew) {
                if (ew.getOp() != ElementWiseVertex.Op.Add) {
                    throw unsupported(name, "element-wise " + ew.getOp());
                }
                return g.node(in.size() == 2 ? "Add" : "Sum", g.fresh(name), in.toArray(String[]::new));
            } else if (v instanceof MergeVertex m) {
                // channels (images) or features (vectors): axis 1 either way, as DL4J merges
                return g.node("Concat", g.fresh(name), new Attr[] {Attr.integer("axis", 1)}, in.toArray(String[]::new));
            } else if (v instanceof SubsetVertex s) {
                return g.node("Slice", g.fresh(name), single(name, in), g.longs(name + "/starts", s.getFrom()),
                        g.longs(name + "/ends", s.getTo() + 1L), g.longs(name + "/axes", 1));
            }
            throw unsupported(name, v.getClass().getSimpleName());
        }

        private static String single(String name, List<String> in) {
            if (in.size() != 1) {
                throw new DistillException("ONNX export: vertex " + name + " has " + in.size() + " inputs, expected 1");
            }
            return in.get(0);
        }

        String preprocess(InputPreProcessor p, String x, String name) {
            if (p == null) {
                return x;
            } else if (p instanceof FeedForwardToCnnPreProcessor f) {
                // DL4J reads the flat vector as (c, h, w) in row-major order: a plain reshape to NCHW
                return g.node("Reshape", g.fresh(name + "/to_image"), x,
                        g.longs(name + "/image_shape", -1, f.getNumChannels(), f.getInputHeight(), f.getInputWidth()));
            } else if (p instanceof CnnToFeedForwardPreProcessor c) {
                if (c.getFormat() != CNN2DFormat.NCHW) {
                    throw unsupported(name, "a " + c.getFormat() + " flatten");
                }
                // DL4J flattens NCHW activations in (c, h, w) order, which is what Flatten does
                return g.node("Flatten", g.fresh(name + "/flatten"), new Attr[] {Attr.integer("axis", 1)}, x);
            }
            throw unsupported(name, "preprocessor " + p.getClass().getSimpleName());
        }

        /** Adds one DL4J layer's ops after {@code x}; returns the layer's output tensor. */
        String layer(Layer conf, org.deeplearning4j.nn.api.Layer layer, String x, String name) {
            if (conf instanceof DropoutLayer) {
                return x;
            } else if (conf instanceof BaseOutputLayer out) {
                logits = dense(out, layer, x, name + "/logits");
                return activation(out.getActivationFn(), logits, name);
            } else if (conf instanceof DenseLayer d) {
                return activation(d.getActivationFn(), dense(d, layer, x, name + "/gemm"), name);
            } else if (conf instanceof SeparableConvolution2D s) {
                return activation(s.getActivationFn(), separable(s, layer, x, name), name);
            } else if (conf instanceof DepthwiseConvolution2D d) {
                return activation(d.getActivationFn(), depthwise(d, layer, x, name), name);
            } else if (conf instanceof ConvolutionLayer c) {
                return activation(c.getActivationFn(), conv(c, layer, x, name), name);
            } else if (conf instanceof SubsamplingLayer s) {
                return pool(s, x, name);
            } else if (conf instanceof GlobalPoolingLayer gp) {
                return globalPool(gp, x, name);
            } else if (conf instanceof BatchNormalization bn) {
                // DL4J 1.0.0-M2.1's batch norm layer never applies its configured activation (activate()
                // is preOutput() alone): the export does what the network computes, not what it declares
                return batchNorm(bn, layer, x, name);
            } else if (conf instanceof ActivationLayer a) {
                return activation(a.getActivationFn(), x, name);
            }
            throw unsupported(name, conf.getClass().getSimpleName());
        }

        String dense(FeedForwardLayer conf, org.deeplearning4j.nn.api.Layer layer, String x, String out) {
            // DL4J's W is [nIn, nOut] (x W + b): Gemm without transposes
            String w = weight(out + "/W", layer);
            if (!layer.paramTable().containsKey("b")) {
                return g.node("MatMul", g.fresh(out), x, w);
            }
            String b = g.weights(out + "/b", layer.getParam("b").reshape(conf.getNOut()));
            return g.node("Gemm", g.fresh(out), x, w, b);
        }

        String conv(ConvolutionLayer c, org.deeplearning4j.nn.api.Layer layer, String x, String name) {
            checkConv(c, name);
            // DL4J's conv W is [nOut, nIn, kH, kW], ONNX's layout
            String w = weight(name + "/W", layer);
            return convNode(c, name + "/conv", 1, x, w, c.hasBias() ? bias(layer, name) : null);
        }

        String depthwise(DepthwiseConvolution2D d, org.deeplearning4j.nn.api.Layer layer, String x, String name) {
            checkConv(d, name);
            // DL4J's depthwise W is [kH, kW, nIn, multiplier]; output channel i*multiplier+m reads input
            // channel i, which is ONNX's grouped conv with group = nIn: W [nIn*multiplier, 1, kH, kW]
            INDArray w = layer.getParam("W");
            long[] s = w.shape();
            INDArray onnxW = w.permute(2, 3, 0, 1).dup('c').reshape('c', s[2] * s[3], 1, s[0], s[1]);
            return convNode(d, name + "/conv", s[2], x, g.weights(name + "/W", onnxW),
                    d.hasBias() ? bias(layer, name) : null);
        }

        String separable(SeparableConvolution2D sc, org.deeplearning4j.nn.api.Layer layer, String x, String name) {
            checkConv(sc, name);
            // depthwise W is [multiplier, nIn, kH, kW]; pointwise pW is [nOut, nIn*multiplier, 1, 1]
            INDArray w = layer.getParam("W");
            long[] s = w.shape();
            INDArray onnxW = w.permute(1, 0, 2, 3).dup('c').reshape('c', s[1] * s[0], 1, s[2], s[3]);
            String dw = convNode(sc, name + "/depthwise", s[1], x, g.weights(name + "/W", onnxW), null);
            String pw = g.weights(name + "/pW", layer.getParam("pW"));
            String b = sc.hasBias() ? bias(layer, name) : null;
            return g.node("Conv", g.fresh(name + "/pointwise"), new Attr[] {Attr.ints("kernel_shape", 1, 1)},
                    b == null ? new String[] {dw, pw} : new String[] {dw, pw, b});
        }

        /**
         * The layer's W as ONNX uses it unchanged (dense, output, conv): float, or for a linear quantized
         * tensor its codes (int8, same shape and order) DequantizeLinear'd along the tensor's channel axis.
         */
        private String weight(String name, org.deeplearning4j.nn.api.Layer layer) {
            QuantizedTensor t = paramPrefix == null ? null : quantized.get(paramPrefix + "W");
            if (!OnnxGraph.int8(t)) {
                return g.weights(name, layer.getParam("W"));
            }
            return g.dequantized(name, t);
        }

        private String bias(org.deeplearning4j.nn.api.Layer layer, String name) {
            INDArray b = layer.getParam("b");
            return g.weights(name + "/b", b.reshape(b.length()));
        }

        private String convNode(ConvolutionLayer c, String out, long group, String x, String w, String b) {
            List<Attr> attrs = new ArrayList<>(List.of(Attr.ints("kernel_shape", c.getKernelSize()),
                    Attr.ints("strides", c.getStride()), Attr.integer("group", group)));
            attrs.addAll(padding(c.getConvolutionMode(), c.getPadding(), out));
            String[] in = b == null ? new String[] {x, w} : new String[] {x, w, b};
            return g.node("Conv", g.fresh(out), attrs.toArray(Attr[]::new), in);
        }

        /**
         * DL4J's Same mode pads as TensorFlow does, the odd pixel at the bottom and right (ONNX's
         * SAME_UPPER); Truncate uses the layer's explicit padding and floors the output size, as ONNX does.
         */
        private static List<Attr> padding(ConvolutionMode mode, int[] pad, String name) {
            if (mode == ConvolutionMode.Same) {
                return List.of(Attr.string("auto_pad", "SAME_UPPER"));
            } else if (mode == ConvolutionMode.Truncate || mode == ConvolutionMode.Strict) {
                return List.of(Attr.ints("pads", pad[0], pad[1], pad[0], pad[1]));
            }
            throw unsupported(name, "convolution mode " + mode);
        }

        private static void checkConv(ConvolutionLayer c, String name) {
            if (c.getCnn2dDataFormat() != CNN2DFormat.NCHW) {
                throw unsupported(name, c.getCnn2dDataFormat() + " convolutions");
            }
            for (int d : c.getDilation()) {
                if (d != 1) {
                    throw unsupported(name, "dilated convolutions");
                }
            }
        }

        String pool(SubsamplingLayer s, String x, String name) {
            List<Attr> attrs = new ArrayList<>(List.of(Attr.ints("kernel_shape", s.getKernelSize()),
                    Attr.ints("strides", s.getStride())));
            attrs.addAll(padding(s.getConvolutionMode(), s.getPadding(), name));
            if (s.getPoolingType() == PoolingType.MAX) {
                return g.node("MaxPool", g.fresh(name), attrs.toArray(Attr[]::new), x);
            } else if (s.getPoolingType() == PoolingType.AVG) {
                attrs.add(Attr.integer("count_include_pad", s.isAvgPoolIncludePadInDivisor() ? 1 : 0));
                return g.node("AveragePool", g.fresh(name), attrs.toArray(Attr[]::new), x);
            }
            throw unsupported(name, s.getPoolingType() + " pooling");
        }

        String globalPool(GlobalPoolingLayer gp, String x, String name) {
            String op = switch (gp.getPoolingType()) {
                case MAX -> "GlobalMaxPool";
                case AVG -> "GlobalAveragePool";
                default -> throw unsupported(name, "global " + gp.getPoolingType() + " pooling");
            };
            String pooled = g.node(op, g.fresh(name + "/pool"), x);
            if (!gp.isCollapseDimensions()) {
                return pooled;
            }
            // DL4J collapses [N, C, 1, 1] to [N, C]
            return g.node("Flatten", g.fresh(name), new Attr[] {Attr.integer("axis", 1)}, pooled);
        }

        /**
         * ONNX's BatchNormalization with DL4J's running statistics. DL4J may keep log10 of the standard
         * deviation instead of the variance; ONNX wants the variance, recovered as (10^log10std)² in double.
         * DL4J adds eps to that at inference as ONNX does (measured: subtracting eps first put trained
         * digits models' probabilities 7e-3 apart where channel variances were small).
         */
        String batchNorm(BatchNormalization bn, org.deeplearning4j.nn.api.Layer layer, String x, String name) {
            if (bn.getCnn2DFormat() != null && bn.getCnn2DFormat() != CNN2DFormat.NCHW) {
                throw unsupported(name, bn.getCnn2DFormat() + " batch norm");
            }
            double eps = bn.getEps();
            double[] mean = layer.getParam("mean").castTo(DataType.DOUBLE).toDoubleVector();
            int c = mean.length;
            double[] variance = new double[c];
            if (bn.isUseLogStd()) {
                double[] log10Std = layer.getParam("log10stdev").castTo(DataType.DOUBLE).toDoubleVector();
                for (int i = 0; i < c; i++) {
                    double std = Math.pow(10, log10Std[i]);
                    variance[i] = std * std;
                }
            } else {
                variance = layer.getParam("var").castTo(DataType.DOUBLE).toDoubleVector();
            }
            float[] gamma = new float[c];
            float[] beta = new float[c];
            if (bn.isLockGammaBeta()) {
                java.util.Arrays.fill(gamma, (float) bn.getGamma());
                java.util.Arrays.fill(beta, (float) bn.getBeta());
            } else {
                gamma = layer.getParam("gamma").castTo(DataType.FLOAT).toFloatVector();
                beta = layer.getParam("beta").castTo(DataType.FLOAT).toFloatVector();
            }
            return g.node("BatchNormalization", g.fresh(name + "/bn"), new Attr[] {Attr.real("epsilon", eps)}, x,
                    g.floats(name + "/gamma", gamma, c), g.floats(name + "/beta", beta, c),
                    g.floats(name + "/mean", toFloats(mean), c), g.floats(name + "/var", toFloats(variance), c));
        }

        private static float[] toFloats(double[] v) {
            float[] f = new float[v.length];
            for (int i = 0; i < v.length; i++) {
                f[i] = (float) v[i];
            }
            return f;
        }

        /** DL4J's activation as the runtime's function of the same definition, written by {@link OnnxGraph#activation}. */
        String activation(IActivation a, String x, String name) {
            if (a == null || a instanceof ActivationIdentity) {
                return x;
            } else if (a instanceof ActivationReLU r) {
                if (r.getMax() != null || r.getThreshold() != null || r.getNegativeSlope() != null) {
                    throw unsupported(name, "a ReLU with max, threshold or negative slope");
                }
                return g.activation(ActivationFunction.RELU, 0, x, name);
            } else if (a instanceof ActivationReLU6) {
                return g.activation(ActivationFunction.RELU6, 0, x, name);
            } else if (a instanceof ActivationLReLU l) {
                return g.activation(ActivationFunction.LEAKYRELU, (float) l.getAlpha(), x, name);
            } else if (a instanceof ActivationELU e) {
                return g.activation(ActivationFunction.ELU, (float) e.getAlpha(), x, name);
            } else if (a instanceof ActivationTanH) {
                return g.activation(ActivationFunction.TANH, 0, x, name);
            } else if (a instanceof ActivationSigmoid) {
                return g.activation(ActivationFunction.SIGMOID, 0, x, name);
            } else if (a instanceof ActivationSwish) {
                return g.activation(ActivationFunction.SWISH, 0, x, name);
            } else if (a instanceof ActivationSoftmax) {
                return g.activation(ActivationFunction.SOFTMAX, 0, x, name);
            }
            throw unsupported(name, "activation " + a);
        }

        private static long inputFeatures(InputPreProcessor first, Layer firstLayer) {
            if (first instanceof FeedForwardToCnnPreProcessor f) {
                return f.getNumChannels() * f.getInputHeight() * f.getInputWidth();
            } else if (first == null && firstLayer instanceof FeedForwardLayer ff) {
                return ff.getNIn();
            }
            throw new DistillException("ONNX export: cannot tell the network's input width from its first layer ("
                    + (firstLayer == null ? first : firstLayer.getClass().getSimpleName()) + ")");
        }

        /** The input width, from the first vertex reading the input (a reshape to images, or a layer's nIn). */
        private static long graphInputFeatures(ComputationGraphConfiguration conf, String inputName) {
            for (Map.Entry<String, List<String>> e : conf.getVertexInputs().entrySet()) {
                if (!e.getValue().contains(inputName)) {
                    continue;
                }
                GraphVertex v = conf.getVertices().get(e.getKey());
                if (v instanceof PreprocessorVertex pv) {
                    return inputFeatures(pv.getPreProcessor(), null);
                } else if (v instanceof LayerVertex lv) {
                    return inputFeatures(lv.getPreProcessor(), lv.getLayerConf().getLayer());
                }
            }
            throw new DistillException("ONNX export: cannot tell the graph's input width from the vertices reading it");
        }

        private static DistillException unsupported(String where, String what) {
            return new DistillException("ONNX export: " + where + ": no ONNX ops for " + what);
        }
    }
}
