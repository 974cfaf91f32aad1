package dev.distill.models.zoo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.models.network.Network;
import dev.distill.models.network.Networks;
import dev.distill.models.spec.GraphSpec;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.ModelSpec;
import dev.distill.models.spec.NetworkSpec;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/** Every zoo model builds on both data sets' image sizes, and the multipliers scale it. */
class ZooTest {

    @Test
    void everyZooModelBuildsWithTheParametersItsSpecCounts() {
        // built on digits' size (parameters do not depend on the image size, except through the cnn's dense layer)
        InputShape input = InputShape.image(8, 8, 1);
        for (String name : Zoo.NAMES) {
            NetworkSpec spec = Zoo.spec(name, 1, 1, 10);
            long counted = spec.cost(input, 10).params();
            Network net = Networks.build(spec, input, new Adam(1e-3), 0, 1, new LossMCXENT());
            assertEquals(counted, net.numParams(), name + " on " + input);
            assertEquals(10, net.output(Nd4j.rand(DataType.FLOAT, 2, input.size())).columns(), name);
            // and the shapes fit Fashion-MNIST's 28x28 (two stride-2 stages, pooling)
            assertTrue(spec.cost(InputShape.image(28, 28, 1), 10).params() > 0);
        }
        assertInstanceOf(ModelSpec.class, Zoo.spec("mlp", 1, 1, 10));
        assertInstanceOf(GraphSpec.class, Zoo.spec("shufflenet-tiny", 1, 1, 10));
    }

    @Test
    void widthScalesChannelsAndDepthScalesRepeats() {
        InputShape input = InputShape.image(28, 28, 1);
        for (String name : Zoo.NAMES) {
            long full = Zoo.spec(name, 1, 1, 10).cost(input, 10).params();
            long half = Zoo.spec(name, 0.5, 1, 10).cost(input, 10).params();
            long deep = Zoo.spec(name, 1, 2, 10).cost(input, 10).params();
            assertTrue(half < full, name + ": width 0.5 " + half + " vs " + full);
            assertTrue(deep > full, name + ": depth 2 " + deep + " vs " + full);
        }
        // mobilenet-tiny at width 1, by hand: stem 9·16+16; separables (9c + 4c + c·f + 4f):
        // 16→32, 32→32, 32→64, 64→64; global pool; output 64·10+10
        long mobilenet = (144 + 16) + (144 + 64 + 512 + 128) + (288 + 128 + 1024 + 128) + (288 + 128 + 2048 + 256)
                + (576 + 256 + 4096 + 256) + 650;
        assertEquals(mobilenet, Zoo.spec("mobilenet-tiny", 1, 1, 10).cost(input, 10).params());
    }

    @Test
    void unknownNameListsTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Zoo.spec("vgg", 1, 1, 10));
        assertEquals("unknown zoo model 'vgg'; known: mlp, cnn, mobilenet-tiny, shufflenet-tiny, resnet-tiny",
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Zoo.spec("mlp", 0, 1, 10));
    }
}
