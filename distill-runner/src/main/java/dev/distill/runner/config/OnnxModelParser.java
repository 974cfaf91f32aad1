package dev.distill.runner.config;

import dev.distill.onnx.OnnxTeacherSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.yaml.snakeyaml.nodes.Node;

/**
 * A model declared as {@code {onnx: model.onnx, layout: nchw, output: logits, scale: 1, mean: [...],
 * std: [...], made_by: command}}: an ONNX teacher run by ONNX Runtime ({@code made_by}: the command
 * that writes the file, named when it is missing). Only the declaration is checked here; whether the
 * file loads and fits the data is checked with the data (see {@code PretrainedModels}).
 */
final class OnnxModelParser {

    private static final Set<String> KEYS = Set.of("onnx", "layout", "output", "output_name", "scale", "mean", "std",
            "made_by");

    private OnnxModelParser() {
    }

    static ModelConfig.Pretrained pretrained(String name, YamlMap model, Path base, DataConfig data) {
        model.allowOnly(KEYS);
        Path file = YamlMap.resolve(base, model.string("onnx"));
        if (!Files.isRegularFile(file)) {
            // a file another tool writes: the config may say how, so the message gives the command to run
            throw model.error("onnx", "ONNX model file not found: " + file + (model.has("made_by")
                    ? "; make it with: " + model.string("made_by") : ""));
        }
        // without layout: the model's input rank decides (2: flat, 4: nchw), once the file is opened
        OnnxTeacherSpec.Layout layout = model.has("layout")
                ? model.enumValue("layout", "flat", OnnxTeacherSpec.Layout.class) : null;
        if (layout != null && layout != OnnxTeacherSpec.Layout.FLAT && !data.input().image()) {
            throw model.error("layout", "layout " + model.string("layout") + " needs image data, but data.input is "
                    + data.input() + "; use layout: flat");
        }
        OnnxTeacherSpec.Output output = model.enumValue("output", "logits", OnnxTeacherSpec.Output.class);
        String outputName = model.has("output_name") ? model.string("output_name") : null;
        if (model.has("mean") != model.has("std")) {
            throw model.error(model.has("mean") ? "mean" : "std", "give mean and std together (per channel, or one "
                    + "value for all channels)");
        }
        List<Double> mean = numbers(model, "mean");
        List<Double> std = numbers(model, "std");
        if (mean.size() != std.size()) {
            throw model.error("std", "has " + std.size() + " values but mean has " + mean.size());
        }
        if (!mean.isEmpty() && mean.size() != 1 && mean.size() != data.input().channels()) {
            throw model.error("mean", "has " + mean.size() + " values; the data has " + data.input().channels()
                    + " channel(s): give 1 or " + data.input().channels());
        }
        for (int i = 0; i < std.size(); i++) {
            if (!(std.get(i) > 0)) {
                throw model.error("std", "values must be positive, found " + std.get(i));
            }
        }
        double scale = model.number("scale", 1);
        if (!(scale > 0)) {
            throw model.error("scale", "must be positive (it multiplies the data's scaled values), found " + scale);
        }
        return new ModelConfig.Pretrained(name, file,
                new OnnxTeacherSpec(file, layout, output, outputName, scale, mean, std));
    }

    private static List<Double> numbers(YamlMap model, String key) {
        List<Double> values = new ArrayList<>();
        if (!model.has(key)) {
            return values;
        }
        for (Node n : model.list(key)) {
            values.add(model.parseNumber(n, model.child(key)));
        }
        return values;
    }
}
