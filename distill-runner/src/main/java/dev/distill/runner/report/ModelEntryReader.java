package dev.distill.runner.report;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import dev.distill.runner.report.RunSummary.Distillation;
import dev.distill.runner.report.RunSummary.LayerEntry;
import dev.distill.runner.report.RunSummary.ModelEntry;
import dev.distill.runner.report.RunSummary.Quantization;
import dev.distill.runner.report.RunSummary.Seeds;
import dev.distill.runner.report.RunSummary.StageResult;
import dev.distill.runner.report.RunSummary.Training;
import dev.distill.runner.report.RunSummary.Verdict;
import java.io.IOException;
import java.util.List;

/**
 * Reads a summary.json entry, whose parts' fields sit flat beside the entry's own: Jackson 2.18 cannot
 * read {@code @JsonUnwrapped} record components, so each part is read from the same object, taking its
 * own keys and leaving the others.
 */
final class ModelEntryReader extends StdDeserializer<ModelEntry> {

    /** The entry's own fields, as they sit in the object. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    private record Own(String id, String model, String role, double testAccuracy, long params, long fileBytes,
            Long flopsPerSample, String file, Long nonzeroParams, List<LayerEntry> layers) {
    }

    ModelEntryReader() {
        super(ModelEntry.class);
    }

    @Override
    public ModelEntry deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
        JsonNode node = p.readValueAsTree();
        Own own = ctxt.readTreeAsValue(node, Own.class);
        return new ModelEntry(own.id(), own.model(), own.role(), ctxt.readTreeAsValue(node, Distillation.class),
                own.testAccuracy(), ctxt.readTreeAsValue(node, Seeds.class), own.params(), own.fileBytes(),
                own.flopsPerSample(), ctxt.readTreeAsValue(node, Training.class), own.file(), own.nonzeroParams(),
                own.layers(), ctxt.readTreeAsValue(node, StageResult.class), ctxt.readTreeAsValue(node, Verdict.class),
                ctxt.readTreeAsValue(node, Quantization.class));
    }
}
