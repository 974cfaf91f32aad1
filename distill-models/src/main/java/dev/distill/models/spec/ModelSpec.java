package dev.distill.models.spec;

import dev.distill.models.spec.LayerSpec.BatchNorm;
import dev.distill.models.spec.LayerSpec.Conv2d;
import dev.distill.models.spec.LayerSpec.Dense;
import dev.distill.models.spec.LayerSpec.DepthwiseConv2d;
import dev.distill.models.spec.LayerSpec.GlobalPool;
import dev.distill.models.spec.LayerSpec.Output;
import dev.distill.models.spec.LayerSpec.Padding;
import dev.distill.models.spec.LayerSpec.Pool;
import dev.distill.models.spec.LayerSpec.RectConv2d;
import dev.distill.models.spec.LayerSpec.SeparableConv2d;
import java.util.ArrayList;
import java.util.List;

/**
 * A sequential model declared layer by layer. {@link #cost(InputShape, int)} walks the layers over
 * an input shape: it is both the shape check (conv on a flat input, a kernel larger than its
 * feature map, an output of the wrong size are {@link SpecException}s naming the layer) and the
 * parameter and multiply-add count the report shows.
 */
public record ModelSpec(List<LayerSpec> layers) implements NetworkSpec {

    public ModelSpec {
        layers = List.copyOf(layers);
        if (layers.isEmpty()) {
            throw new SpecException(-1, "a model needs at least one layer");
        }
        for (int i = 0; i < layers.size(); i++) {
            boolean last = i == layers.size() - 1;
            boolean output = layers.get(i) instanceof Output;
            if (last && !output) {
                throw new SpecException(i, "the last layer must be of type output, found " + layers.get(i).type());
            }
            if (!last && output) {
                throw new SpecException(i, "an output layer must be the last layer");
            }
        }
    }

    /** Number of classes the output layer predicts. */
    @Override
    public int classes() {
        return ((Output) layers.get(layers.size() - 1)).classes();
    }

    /**
     * Checks that every layer fits the shape it receives and counts parameters and multiply-adds.
     *
     * @throws SpecException naming the first layer that does not fit
     */
    @Override
    public ModelCost cost(InputShape input, int numClasses) {
        Shape shape = Shape.of(input);
        List<LayerCost> costs = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            LayerSpec layer = layers.get(i);
            Step step = step(i, layer, shape, numClasses);
            costs.add(new LayerCost(i, layer.type(), step.out().toString(), step.params(), step.macs()));
            shape = step.out();
        }
        return new ModelCost(costs);
    }

    /** What one layer does to a shape: the shape it gives, its parameters and multiply-adds. */
    record Step(Shape out, long params, long macs) {
    }

    /**
     * One layer on {@code shape}; {@code i} names it in errors. Shared with {@link GraphSpec}, whose
     * plain-layer blocks cost what the same layer costs in a sequential model.
     */
    static Step step(int i, LayerSpec layer, Shape shape, int numClasses) {
        long params = 0;
        long macs = 0;
        Shape out = shape;
        if (layer instanceof Dense d) {
            long in = shape.size();
            params = in * d.units() + (d.bias() ? d.units() : 0);
            macs = in * d.units();
            out = Shape.flat(d.units());
        } else if (layer instanceof Output o) {
            if (o.classes() != numClasses) {
                throw new SpecException(i, "output has " + o.classes() + " classes but the data has "
                        + numClasses + "; set classes: " + numClasses);
            }
            long in = shape.size();
            params = in * o.classes() + o.classes();
            macs = in * o.classes();
            out = Shape.flat(o.classes());
        } else if (layer instanceof Conv2d c) {
            requireImage(i, layer.type(), shape);
            out = convolved(i, layer.type(), shape, c.kernel(), c.kernel(), c.stride(), c.stride(), c.padding(),
                    c.filters());
            long weights = (long) c.kernel() * c.kernel() * shape.c * c.filters();
            params = weights + (c.bias() ? c.filters() : 0);
            macs = (long) out.h * out.w * weights;
        } else if (layer instanceof RectConv2d c) {
            requireImage(i, layer.type(), shape);
            out = convolved(i, layer.type(), shape, c.kernelHeight(), c.kernelWidth(), c.strideHeight(), c.strideWidth(),
                    c.padding(), c.filters());
            long weights = (long) c.kernelHeight() * c.kernelWidth() * shape.c * c.filters();
            params = weights + (c.bias() ? c.filters() : 0);
            macs = (long) out.h * out.w * weights;
        } else if (layer instanceof DepthwiseConv2d d) {
            requireImage(i, layer.type(), shape);
            int channels = shape.c * d.multiplier();
            out = convolved(i, layer.type(), shape, d.kernel(), d.kernel(), d.stride(), d.stride(), d.padding(), channels);
            long weights = (long) d.kernel() * d.kernel() * channels;
            params = weights + channels;
            macs = (long) out.h * out.w * weights;
        } else if (layer instanceof SeparableConv2d s) {
            requireImage(i, layer.type(), shape);
            int depthChannels = shape.c * s.multiplier();
            out = convolved(i, layer.type(), shape, s.kernel(), s.kernel(), s.stride(), s.stride(), s.padding(), s.filters());
            long depthwise = (long) s.kernel() * s.kernel() * depthChannels;
            long pointwise = (long) depthChannels * s.filters();
            // DL4J's SeparableConvolution2D has one bias, after the pointwise step
            params = depthwise + pointwise + s.filters();
            macs = (long) out.h * out.w * (depthwise + pointwise);
        } else if (layer instanceof Pool p) {
            requireImage(i, layer.type(), shape);
            out = convolved(i, layer.type(), shape, p.size(), p.size(), p.stride(), p.stride(), Padding.VALID, shape.c);
        } else if (layer instanceof GlobalPool) {
            requireImage(i, layer.type(), shape);
            out = Shape.flat(shape.c);
        } else if (layer instanceof BatchNorm) {
            // gamma, beta and the running mean and variance, per feature or channel
            params = 4L * shape.c;
            // one multiply-add per value at inference (scale and shift)
            macs = shape.size();
        }
        // dropout: no parameters, no arithmetic at inference, shape unchanged
        return new Step(out, params, macs);
    }

    static void requireImage(int index, String type, Shape shape) {
        if (!shape.image) {
            throw new SpecException(index, type + " needs an image input (height x width x channels) but receives "
                    + shape + "; declare data.input with height, width and channels, and put convolution and "
                    + "pooling layers before dense ones");
        }
    }

    static Shape convolved(int index, String type, Shape in, int kernelH, int kernelW, int strideH,
            int strideW, Padding padding, int channels) {
        int h;
        int w;
        if (padding == Padding.SAME) {
            h = ceilDiv(in.h, strideH);
            w = ceilDiv(in.w, strideW);
        } else {
            if (kernelH > in.h || kernelW > in.w) {
                throw new SpecException(index, type + " window " + kernelH + "x" + kernelW
                        + " is larger than its input " + in + "; use a smaller kernel or padding: same");
            }
            h = (in.h - kernelH) / strideH + 1;
            w = (in.w - kernelW) / strideW + 1;
        }
        return new Shape(h, w, channels, true);
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    /** Activation shape between layers; flat shapes keep their size in {@code c}. */
    record Shape(int h, int w, int c, boolean image) {
        static Shape flat(int size) {
            return new Shape(1, 1, size, false);
        }

        static Shape of(InputShape input) {
            return new Shape(input.height(), input.width(), input.channels(), input.image());
        }

        long size() {
            return (long) h * w * c;
        }

        @Override
        public String toString() {
            return image ? h + "x" + w + "x" + c : String.valueOf(c);
        }
    }
}
