package dev.distill.models.zoo;

import dev.distill.models.spec.Activation;
import dev.distill.models.spec.BlockSpec;
import dev.distill.models.spec.BlockSpec.Add;
import dev.distill.models.spec.BlockSpec.Concat;
import dev.distill.models.spec.BlockSpec.GroupConv;
import dev.distill.models.spec.BlockSpec.Residual;
import dev.distill.models.spec.BlockSpec.Separable;
import dev.distill.models.spec.GraphSpec;
import dev.distill.models.spec.GraphSpec.Block;
import dev.distill.models.spec.LayerSpec;
import dev.distill.models.spec.LayerSpec.Padding;
import dev.distill.models.spec.LayerSpec.PoolType;
import dev.distill.models.spec.ModelSpec;
import dev.distill.models.spec.NetworkSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * Named architectures, scaled by a width multiplier (channels and units) and a depth multiplier
 * (repeated layers or blocks per stage), so that a config can say
 * {@code student: {zoo: mobilenet-tiny, width: 0.5}}. Sized for small images (8×8 digits, 28×28
 * Fashion-MNIST): two stride-2 stages, then global average pooling instead of a large dense head.
 *
 * <ul>
 *   <li>{@code mlp}: dense 128 (× depth layers), output — the core protocol's student shape.</li>
 *   <li>{@code cnn}: conv 32, max pool, conv 64, max pool (convs × depth), dense 128, output.</li>
 *   <li>{@code mobilenet-tiny}: conv 16; separable 32 stride 2, separable 32 (× depth);
 *       separable 64 stride 2, separable 64 (× depth); global pool; output.</li>
 *   <li>{@code shufflenet-tiny}: conv 24; per stage (48, then 96 channels) a down unit (group conv 1×1
 *       with shuffle, depthwise 3×3 stride 2, batch norm, group conv 1×1, concatenated with the 2×2
 *       average-pooled input) and (× depth) units with the same branch added to their input; groups 4;
 *       global pool; output.</li>
 *   <li>{@code resnet-tiny}: conv 16; residual 16 (× depth); residual 32 stride 2, residual 32
 *       (× depth); global pool; output.</li>
 * </ul>
 */
public final class Zoo {

    public static final List<String> NAMES = List.of("mlp", "cnn", "mobilenet-tiny", "shufflenet-tiny", "resnet-tiny");

    private static final int SHUFFLE_GROUPS = 4;

    private Zoo() {
    }

    /**
     * The architecture {@code name} at the given multipliers, predicting {@code classes}.
     *
     * @throws IllegalArgumentException for an unknown name (the message lists the known ones) or a
     *                                  multiplier that is not positive
     */
    public static NetworkSpec spec(String name, double width, double depth, int classes) {
        if (!(width > 0) || !(depth > 0)) {
            throw new IllegalArgumentException("width and depth must be positive, got " + width + " and " + depth);
        }
        Scale s = new Scale(width, depth);
        return switch (name) {
            case "mlp" -> mlp(s, classes);
            case "cnn" -> cnn(s, classes);
            case "mobilenet-tiny" -> mobilenet(s, classes);
            case "shufflenet-tiny" -> shufflenet(s, classes);
            case "resnet-tiny" -> resnet(s, classes);
            default -> throw new IllegalArgumentException("unknown zoo model '" + name + "'; known: "
                    + String.join(", ", NAMES));
        };
    }

    /** Channels {@code c × width} rounded to a multiple of {@code multiple} (at least one multiple), repeats {@code n × depth}. */
    private record Scale(double width, double depth) {
        int channels(int c, int multiple) {
            return Math.max(multiple, (int) Math.round(c * width / multiple) * multiple);
        }

        int channels(int c) {
            return channels(c, 1);
        }

        int repeats(int n) {
            return Math.max(1, (int) Math.round(n * depth));
        }
    }

    private static ModelSpec mlp(Scale s, int classes) {
        List<LayerSpec> layers = new ArrayList<>();
        for (int i = 0; i < s.repeats(1); i++) {
            layers.add(new LayerSpec.Dense(s.channels(128), Activation.RELU));
        }
        layers.add(new LayerSpec.Output(classes));
        return new ModelSpec(layers);
    }

    private static ModelSpec cnn(Scale s, int classes) {
        List<LayerSpec> layers = new ArrayList<>();
        for (int filters : new int[] {32, 64}) {
            for (int i = 0; i < s.repeats(1); i++) {
                layers.add(new LayerSpec.Conv2d(s.channels(filters), 3, 1, Padding.SAME, Activation.RELU));
            }
            layers.add(new LayerSpec.Pool(PoolType.MAX, 2, 2));
        }
        layers.add(new LayerSpec.Dense(s.channels(128), Activation.RELU));
        layers.add(new LayerSpec.Output(classes));
        return new ModelSpec(layers);
    }

    private static GraphSpec mobilenet(Scale s, int classes) {
        List<Block> blocks = new ArrayList<>();
        blocks.add(Block.of("stem", conv(s.channels(16))));
        int stage = 1;
        for (int filters : new int[] {32, 64}) {
            int f = s.channels(filters);
            blocks.add(Block.of("down" + stage, new Separable(f, 3, 2, Activation.RELU)));
            blocks.add(new Block("sep" + stage, List.of(), new Separable(f, 3, 1, Activation.RELU), s.repeats(1)));
            stage++;
        }
        return head(blocks, classes);
    }

    private static GraphSpec shufflenet(Scale s, int classes) {
        int g = SHUFFLE_GROUPS;
        List<Block> blocks = new ArrayList<>();
        int channels = s.channels(24, 2 * g);
        blocks.add(Block.of("stem", conv(channels)));
        String last = "stem";
        int stage = 1;
        for (int target : new int[] {48, 96}) {
            int out = Math.max(channels + 2 * g, s.channels(target, 2 * g));
            String unit = "s" + stage + "_down";
            String branch = shuffleBranch(blocks, unit, last, out - channels, 2);
            blocks.add(Block.of(unit + "_pool", new BlockSpec.Layer(new LayerSpec.Pool(PoolType.AVG, 2, 2)), last));
            blocks.add(Block.of(unit, new Concat(), unit + "_pool", branch));
            last = unit;
            channels = out;
            for (int k = 1; k <= s.repeats(1); k++) {
                unit = "s" + stage + "_u" + k;
                branch = shuffleBranch(blocks, unit, last, channels, 1);
                blocks.add(Block.of(unit, new Add(), last, branch));
                last = unit;
            }
            stage++;
        }
        return head(blocks, classes);
    }

    /** ShuffleNet's unit body: group conv 1×1 + shuffle, depthwise 3×3, batch norm, group conv 1×1. */
    private static String shuffleBranch(List<Block> blocks, String unit, String input, int filters, int stride) {
        blocks.add(Block.of(unit + "_gc1", new GroupConv(filters, 1, SHUFFLE_GROUPS, 1, true, Activation.RELU), input));
        blocks.add(Block.of(unit + "_dw", new BlockSpec.Layer(
                new LayerSpec.DepthwiseConv2d(3, 1, stride, Padding.SAME, Activation.IDENTITY))));
        blocks.add(Block.of(unit + "_bn", new BlockSpec.Layer(new LayerSpec.BatchNorm())));
        blocks.add(Block.of(unit + "_gc2", new GroupConv(filters, 1, SHUFFLE_GROUPS, 1, false, Activation.RELU)));
        return unit + "_gc2";
    }

    private static GraphSpec resnet(Scale s, int classes) {
        List<Block> blocks = new ArrayList<>();
        blocks.add(Block.of("stem", conv(s.channels(16))));
        blocks.add(new Block("res1", List.of(), new Residual(s.channels(16), 3, 1, Activation.RELU), s.repeats(1)));
        blocks.add(Block.of("down2", new Residual(s.channels(32), 3, 2, Activation.RELU)));
        blocks.add(new Block("res2", List.of(), new Residual(s.channels(32), 3, 1, Activation.RELU), s.repeats(1)));
        return head(blocks, classes);
    }

    private static BlockSpec conv(int filters) {
        return new BlockSpec.Layer(new LayerSpec.Conv2d(filters, 3, 1, Padding.SAME, Activation.RELU));
    }

    /** Global average pooling and the classifier, after the last block. */
    private static GraphSpec head(List<Block> blocks, int classes) {
        blocks.add(Block.of("pool", new BlockSpec.Layer(new LayerSpec.GlobalPool(PoolType.AVG))));
        blocks.add(Block.of("output", new BlockSpec.Layer(new LayerSpec.Output(classes))));
        return new GraphSpec(blocks);
    }
}
