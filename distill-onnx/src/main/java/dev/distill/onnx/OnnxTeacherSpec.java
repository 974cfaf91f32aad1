package dev.distill.onnx;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * How to feed an ONNX model distill's data and read its answer, as a config declares it:
 * {@code {onnx: model.onnx, layout: nchw, output: logits, scale: 1, mean: [0.5], std: [0.5]}}.
 *
 * <p>distill's examples are flat vectors, images channels first (c, h, w) and already scaled by the
 * data source ({@code scale}, 1/255 for IDX images, 1/16 for digits). What the model gets is
 * {@code (x * scale - mean[c]) / std[c]} per channel {@code c}, shaped as {@code layout} says.
 *
 * @param file       the .onnx file
 * @param layout     how the model's input is shaped; null: from the model's input rank (2: flat, 4: nchw)
 * @param output     what the chosen output holds; probabilities are turned into log-probabilities,
 *                   which give the same softmax at every temperature
 * @param outputName the model output to read, or null for the model's first output
 * @param scale      multiplies distill's (already scaled) features first; 1 for none
 * @param mean       per-channel means to subtract (one value for all channels, or one per channel; empty for none)
 * @param std        per-channel standard deviations to divide by (same length as {@code mean})
 */
public record OnnxTeacherSpec(Path file, Layout layout, Output output, String outputName, double scale,
        List<Double> mean, List<Double> std) {

    /** The model's input: {@code [N, features]}, {@code [N, C, H, W]} or {@code [N, H, W, C]}. */
    public enum Layout {
        FLAT, NCHW, NHWC;

        public int rank() {
            return this == FLAT ? 2 : 4;
        }
    }

    /** What the model outputs. */
    public enum Output {
        LOGITS, PROBABILITIES
    }

    public OnnxTeacherSpec {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(output, "output");
        mean = List.copyOf(mean);
        std = List.copyOf(std);
        if (!(scale > 0) || Double.isInfinite(scale)) {
            throw new IllegalArgumentException("scale must be a positive number, got " + scale);
        }
        if (mean.size() != std.size()) {
            throw new IllegalArgumentException("mean and std must have the same length, got " + mean.size()
                    + " and " + std.size());
        }
        for (double s : std) {
            if (!(s > 0) || Double.isInfinite(s)) {
                throw new IllegalArgumentException("std values must be positive numbers, got " + s);
            }
        }
        for (double m : mean) {
            if (!Double.isFinite(m)) {
                throw new IllegalArgumentException("mean values must be finite numbers, got " + m);
            }
        }
    }

    /** A model taking the data as distill holds it ({@code layout}), returning logits from its first output. */
    public static OnnxTeacherSpec of(Path file, Layout layout) {
        return new OnnxTeacherSpec(file, layout, Output.LOGITS, null, 1, List.of(), List.of());
    }

    public OnnxTeacherSpec withOutput(Output kind, String name) {
        return new OnnxTeacherSpec(file, layout, kind, name, scale, mean, std);
    }

    public OnnxTeacherSpec withNormalization(double scale, List<Double> mean, List<Double> std) {
        return new OnnxTeacherSpec(file, layout, output, outputName, scale, mean, std);
    }
}
