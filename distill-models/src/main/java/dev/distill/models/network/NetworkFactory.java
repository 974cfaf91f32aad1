package dev.distill.models.network;

import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.LayerSpec;
import dev.distill.models.spec.LayerSpec.BatchNorm;
import dev.distill.models.spec.LayerSpec.Conv2d;
import dev.distill.models.spec.LayerSpec.Dense;
import dev.distill.models.spec.LayerSpec.DepthwiseConv2d;
import dev.distill.models.spec.LayerSpec.Dropout;
import dev.distill.models.spec.LayerSpec.GlobalPool;
import dev.distill.models.spec.LayerSpec.Output;
import dev.distill.models.spec.LayerSpec.Padding;
import dev.distill.models.spec.LayerSpec.Pool;
import dev.distill.models.spec.LayerSpec.PoolType;
import dev.distill.models.spec.LayerSpec.RectConv2d;
import dev.distill.models.spec.LayerSpec.SeparableConv2d;
import dev.distill.models.spec.ModelSpec;
import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration.ListBuilder;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * Builds a DL4J {@link MultiLayerNetwork} from a {@link ModelSpec}. The output layer is a dense layer
 * with softmax whose loss is given by the caller: cross-entropy for plain training, the distillation
 * loss (which reads the logits, not the probabilities) for a distilled model.
 */
public final class NetworkFactory {

    static {
        // ND4J ops kept alive through their native calls (a training could otherwise die in native code)
        dev.distill.models.nd4j.NativeSafety.install();
    }


    private NetworkFactory() {
    }

    /**
     * A new, initialised network.
     *
     * @param weightDecay decoupled weight decay coefficient (0 for none), applied to weights, not biases
     * @param seed        seeds the weight initialisation, so the same seed gives the same network
     */
    public static MultiLayerNetwork build(ModelSpec spec, InputShape input, IUpdater updater, double weightDecay,
            long seed, ILossFunction outputLoss) {
        ListBuilder list = settings(updater, weightDecay, seed).list();
        for (LayerSpec layer : spec.layers()) {
            list.layer(toDl4j(layer, outputLoss));
        }
        list.setInputType(input.image()
                ? InputType.convolutionalFlat(input.height(), input.width(), input.channels())
                : InputType.feedForward(input.size()));
        MultiLayerConfiguration conf = list.build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        ConvBackend.DEFAULT.apply(net);
        return net;
    }

    /** What every layer shares, sequential or graph: seed, float, optimizer, initialisation, weight decay. */
    static NeuralNetConfiguration.Builder settings(IUpdater updater, double weightDecay, long seed) {
        NeuralNetConfiguration.Builder builder = new NeuralNetConfiguration.Builder()
                .seed(Seeds.dl4j(seed))
                .dataType(DataType.FLOAT)
                .updater(updater)
                // Glorot uniform, as Keras does: the scale most published results for these nets assume
                .weightInit(WeightInit.XAVIER_UNIFORM)
                // conv layers keep their forward pre-activations for the backward pass instead of computing the
                // convolution again there: the teacher CNN trains 14-17% more samples per CPU second, with
                // bit-identical parameters (the cache is only read within the step that wrote it)
                .cacheMode(CacheMode.DEVICE);
        if (weightDecay > 0) {
            builder.weightDecay(weightDecay);
        }
        return builder;
    }

    /** A new network trained with plain cross-entropy. */
    public static MultiLayerNetwork build(ModelSpec spec, InputShape input, IUpdater updater, double weightDecay,
            long seed) {
        return build(spec, input, updater, weightDecay, seed, new LossMCXENT());
    }

    static Layer toDl4j(LayerSpec layer, ILossFunction outputLoss) {
        if (layer instanceof Dense d) {
            return new DenseLayer.Builder().nOut(d.units()).activation(d.activation().dl4j()).hasBias(d.bias()).build();
        } else if (layer instanceof Output o) {
            return new OutputLayer.Builder(outputLoss).nOut(o.classes()).activation(Activation.SOFTMAX).build();
        } else if (layer instanceof Conv2d c) {
            return conv(c.filters(), c.kernel(), c.kernel(), c.stride(), c.stride(), c.padding(), c.activation(),
                    c.bias());
        } else if (layer instanceof RectConv2d c) {
            return conv(c.filters(), c.kernelHeight(), c.kernelWidth(), c.strideHeight(), c.strideWidth(), c.padding(),
                    c.activation(), c.bias());
        } else if (layer instanceof DepthwiseConv2d d) {
            return new DepthwiseConvolution2D.Builder(d.kernel(), d.kernel())
                    .stride(d.stride(), d.stride())
                    .depthMultiplier(d.multiplier())
                    .convolutionMode(mode(d.padding()))
                    .activation(d.activation().dl4j())
                    .build();
        } else if (layer instanceof SeparableConv2d s) {
            return new SeparableConvolution2D.Builder(s.kernel(), s.kernel())
                    .stride(s.stride(), s.stride())
                    .depthMultiplier(s.multiplier())
                    .nOut(s.filters())
                    .convolutionMode(mode(s.padding()))
                    .activation(s.activation().dl4j())
                    .build();
        } else if (layer instanceof Pool p) {
            return new SubsamplingLayer.Builder(poolType(p.pool()))
                    .kernelSize(p.size(), p.size())
                    .stride(p.stride(), p.stride())
                    .convolutionMode(ConvolutionMode.Truncate)
                    .build();
        } else if (layer instanceof GlobalPool g) {
            return new GlobalPoolingLayer.Builder(poolType(g.pool())).build();
        } else if (layer instanceof BatchNorm) {
            return new BatchNormalization.Builder().build();
        } else if (layer instanceof LayerSpec.Activate a) {
            return new ActivationLayer.Builder().activation(a.activation().dl4j()).build();
        } else if (layer instanceof Dropout d) {
            // DL4J's argument is the probability of keeping a unit
            return new DropoutLayer.Builder(1.0 - d.rate()).build();
        }
        throw new IllegalArgumentException("no DL4J layer for " + layer);
    }

    private static Layer conv(int filters, int kernelH, int kernelW, int strideH, int strideW, Padding padding,
            dev.distill.models.spec.Activation activation, boolean bias) {
        return new ConvolutionLayer.Builder(kernelH, kernelW)
                .stride(strideH, strideW)
                .nOut(filters)
                .convolutionMode(mode(padding))
                .activation(activation.dl4j())
                .hasBias(bias)
                .build();
    }

    static ConvolutionMode mode(Padding padding) {
        return padding == Padding.SAME ? ConvolutionMode.Same : ConvolutionMode.Truncate;
    }

    private static PoolingType poolType(PoolType type) {
        return type == PoolType.MAX ? PoolingType.MAX : PoolingType.AVG;
    }
}
