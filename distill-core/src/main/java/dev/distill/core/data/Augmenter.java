package dev.distill.core.data;

import dev.distill.models.spec.InputShape;
import java.util.Objects;
import java.util.SplittableRandom;
import org.apache.commons.math3.distribution.BetaDistribution;
import org.apache.commons.math3.random.Well19937c;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Applies an {@link Augmentation} to one mini-batch of flattened images (channels first, each channel
 * row-major, as {@link LabeledData} holds them), in plain Java over the batch's floats.
 *
 * <p>The random choices of a batch depend only on the training seed, the epoch and the batch's first
 * position in the epoch, not on a generator carried from batch to batch: a run resumed in the middle
 * of an epoch sees exactly the views the uninterrupted run saw, with nothing extra in the checkpoint.
 */
public final class Augmenter {

    private final Augmentation augmentation;
    private final InputShape shape;

    /**
     * @throws IllegalArgumentException if a translation or flip is asked of a flat (non-image) input
     */
    public Augmenter(Augmentation augmentation, InputShape shape) {
        this.augmentation = Objects.requireNonNull(augmentation, "augmentation");
        this.shape = Objects.requireNonNull(shape, "shape");
        if (augmentation.spatial() && !shape.image()) {
            throw new IllegalArgumentException("shift and flip need an image input (height and width), got "
                    + shape);
        }
    }

    public Augmentation augmentation() {
        return augmentation;
    }

    /** A batch as the network is trained on it: inputs {@code [b, d]} and label distributions {@code [b, k]}. */
    public record View(INDArray features, INDArray labels) {
    }

    /**
     * The augmented view of a batch; {@code labels} (one-hot, or any distribution per row) are returned
     * unchanged unless mixup blends them. Neither input array is modified.
     */
    public View apply(INDArray features, INDArray labels, long seed, int epoch, int batchStart) {
        int b = (int) features.rows();
        int d = (int) features.columns();
        if (d != shape.size()) {
            throw new IllegalArgumentException("examples have " + d + " values, the input shape " + shape
                    + " has " + shape.size());
        }
        SplittableRandom random = new SplittableRandom(batchSeed(seed, epoch, batchStart));
        float[] in = features.castTo(DataType.FLOAT).dup('c').data().asFloat();
        float[] out;
        if (augmentation.spatial()) {
            out = new float[in.length];
            int s = augmentation.shift();
            for (int i = 0; i < b; i++) {
                int dy = s > 0 ? random.nextInt(2 * s + 1) - s : 0;
                int dx = s > 0 ? random.nextInt(2 * s + 1) - s : 0;
                boolean flip = augmentation.flip() && random.nextBoolean();
                transform(in, out, i * d, shape, dy, dx, flip);
            }
        } else {
            out = in;
        }
        INDArray mixedLabels = labels;
        if (augmentation.mixup() > 0 && b > 1) {
            // one weight per batch, as in Zhang et al. (2018); the partner of each example is a random other one
            double lambda = new BetaDistribution(new Well19937c(random.nextLong()), augmentation.mixup(),
                    augmentation.mixup()).sample();
            int[] partner = permutation(b, random);
            float[] mixed = new float[out.length];
            for (int i = 0; i < b; i++) {
                int p = partner[i] * d;
                for (int j = 0; j < d; j++) {
                    mixed[i * d + j] = (float) (lambda * out[i * d + j] + (1 - lambda) * out[p + j]);
                }
            }
            out = mixed;
            INDArray partnerLabels = Nd4j.pullRows(labels, 1, partner);
            mixedLabels = labels.mul(lambda).addi(partnerLabels.muli(1 - lambda));
        }
        return new View(Nd4j.createFromArray(out).reshape('c', b, d), mixedLabels);
    }

    /**
     * Writes one example ({@code d} values from {@code offset}) of {@code in} into {@code out}: mirrored left
     * to right if {@code flip}, then moved {@code dy} rows down and {@code dx} columns right, zeros where
     * nothing moves in. Every channel moves alike.
     */
    static void transform(float[] in, float[] out, int offset, InputShape shape, int dy, int dx, boolean flip) {
        int h = shape.height();
        int w = shape.width();
        for (int c = 0; c < shape.channels(); c++) {
            int plane = offset + c * h * w;
            for (int y = 0; y < h; y++) {
                int sy = y - dy;
                for (int x = 0; x < w; x++) {
                    int sx = x - dx;
                    float v = 0f;
                    if (sy >= 0 && sy < h && sx >= 0 && sx < w) {
                        v = in[plane + sy * w + (flip ? w - 1 - sx : sx)];
                    }
                    out[plane + y * w + x] = v;
                }
            }
        }
    }

    /** The seed of one batch's choices: a function of the run's seed, the epoch and the batch's position. */
    static long batchSeed(long seed, int epoch, int batchStart) {
        // SplittableRandom mixes its seed well, but distinct inputs must give distinct seeds first
        return (seed * 1_000_003L + epoch) * 2_147_483_647L + batchStart;
    }

    private static int[] permutation(int n, SplittableRandom random) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
