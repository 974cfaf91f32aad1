package dev.distill.models.spec;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** Activation functions a layer spec may name; each maps to DL4J's. */
public enum Activation {
    RELU(org.nd4j.linalg.activations.Activation.RELU),
    RELU6(org.nd4j.linalg.activations.Activation.RELU6),
    LEAKYRELU(org.nd4j.linalg.activations.Activation.LEAKYRELU),
    ELU(org.nd4j.linalg.activations.Activation.ELU),
    TANH(org.nd4j.linalg.activations.Activation.TANH),
    SIGMOID(org.nd4j.linalg.activations.Activation.SIGMOID),
    SWISH(org.nd4j.linalg.activations.Activation.SWISH),
    IDENTITY(org.nd4j.linalg.activations.Activation.IDENTITY);

    private final org.nd4j.linalg.activations.Activation dl4j;

    Activation(org.nd4j.linalg.activations.Activation dl4j) {
        this.dl4j = dl4j;
    }

    public org.nd4j.linalg.activations.Activation dl4j() {
        return dl4j;
    }

    /** The name used in configs: lower case. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static String knownNames() {
        return Arrays.stream(values()).map(Activation::configName).collect(Collectors.joining(", "));
    }
}
