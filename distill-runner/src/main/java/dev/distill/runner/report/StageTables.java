package dev.distill.runner.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The stages' part of report.md: per stage model, its rounds and, per parameter tensor, how it is
 * stored and its bytes dense against as stored. Empty for a run without stages.
 */
final class StageTables {

    private StageTables() {
    }

    static String markdown(RunSummary s) {
        StringBuilder md = new StringBuilder();
        for (RunSummary.ModelEntry m : s.models()) {
            if (m.stageResult().stage() == null) {
                continue;
            }
            if (md.length() == 0) {
                md.append("## Stages\n\n");
            }
            Map<String, Object> d = m.stageResult().stageDetails() == null ? Map.of() : m.stageResult().stageDetails();
            md.append(f("### %s (%s of %s)%n%n", m.id(), m.stageResult().stage(), m.stageResult().input()));
            if (m.quantization().scheme() != null) {
                md.append(quantized(m, d));
                tensors(md, m);
                continue;
            }
            if ("low_rank".equals(m.stageResult().stage())) {
                md.append(lowRank(m, d));
                continue;
            }
            md.append(f("%s, %s, %s; fine-tuning %s epoch(s) with the %s loss. Sparsity %.4f; test accuracy %.4f "
                    + "(%s: %s); %,d non-zero parameters; file %,d bytes (%s: %s bytes; the same network as a DL4J zip: "
                    + "%s bytes); inference %s vs %s examples/s (load average %s).%n%n", d.get("method"), d.get("scope"),
                    d.get("schedule"), d.get("fine_tune_epochs"), d.get("loss"), m.stageResult().sparsity(),
                    m.testAccuracy(), m.stageResult().input(), number(d.get("input_test_accuracy"), "%.4f"), m.params(),
                    m.fileBytes(), m.stageResult().input(),
                    number(d.get("input_file_bytes"), "%,.0f"), number(d.get("dense_zip_bytes"), "%,.0f"),
                    number(d.get("inference_samples_per_s"), "%,.0f"),
                    number(d.get("input_inference_samples_per_s"), "%,.0f"), number(d.get("load_average"), "%.2f")));
            if (d.get("stopped") != null) {
                md.append("Stopped at ").append(d.get("stopped")).append(".\n\n");
            }
            tensors(md, m);
        }
        return md.toString();
    }

    /** Per tensor: how it is stored and its bytes as float32 against as stored. */
    private static void tensors(StringBuilder md, RunSummary.ModelEntry m) {
        if (m.stageResult().tensors() == null) {
            return;
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"layer", "tensor", "sparsity", "values", "non-zero", "stored as", "dense bytes",
            "stored bytes"});
        for (RunSummary.TensorEntry t : m.stageResult().tensors()) {
            // a packed file's encodings name their own index widths (in bits)
            String as = t.indexBytes() == 0 ? t.encoding() : f("%s, %d-byte index", t.encoding(), t.indexBytes());
            rows.add(new String[] {t.layer(), t.tensor(),
                f("%.3f", t.params() == 0 ? 0 : 1 - (double) t.nonzero() / t.params()), f("%,d", t.params()),
                f("%,d", t.nonzero()), as, f("%,d", t.denseBytes()), f("%,d", t.storedBytes())});
        }
        md.append(SummaryTable.render(rows, true)).append('\n');
    }

    private static String quantized(RunSummary.ModelEntry m, Map<String, Object> d) {
        StringBuilder p = new StringBuilder();
        p.append(f("%s; fine-tuning %s epoch(s)%s with the %s loss. Test accuracy %.4f (%s: %s); validation %s "
                + "before, %s right after quantization, %s after fine-tuning. Packed file %,d bytes (%s: %s bytes).",
                SummaryTable.stageRole(m), d.get("fine_tune_epochs"),
                d.get("learning_rate") == null ? "" : f(" (%s, learning rate %s)", d.get("optimizer"),
                        d.get("learning_rate")), d.get("loss"), m.testAccuracy(), m.stageResult().input(),
                number(d.get("input_test_accuracy"), "%.4f"), number(d.get("validation_accuracy_before"), "%.4f"),
                number(d.get("validation_accuracy_quantized"), "%.4f"),
                number(d.get("validation_accuracy_after"), "%.4f"), m.fileBytes(), m.stageResult().input(),
                number(d.get("input_file_bytes"), "%,.0f")));
        if (m.quantization().inferSamplesPerS() != null) {
            p.append(f(" Integer path: test accuracy %s, the input's class on %s of the test examples; %,.0f "
                    + "examples/s one at a time against %,.0f for the input in float32 (%.2fx), DL4J's batched "
                    + "output %s examples/s (median of %s passes%s, load average %s).",
                    number(d.get("integer_test_accuracy"), "%.4f"),
                    d.get("integer_agreement_with_input") instanceof Number n ? f("%.2f%%", 100 * n.doubleValue())
                            : "n/a", m.quantization().inferSamplesPerS(), m.quantization().fp32InferSamplesPerS(),
                    m.quantization().inferSamplesPerS() / m.quantization().fp32InferSamplesPerS(),
                    number(d.get("dl4j_batch_infer_samples_per_s"), "%,.0f"), d.get("speed_repeats"),
                    d.get("speed_examples_per_pass") instanceof Number n ? f(" over %,d examples one at a time", n.intValue())
                            : "", number(d.get("load_average"), "%.2f")));
        } else if (d.get("integer_path") != null) {
            p.append(" Integer path: ").append(d.get("integer_path")).append('.');
        }
        return p.append("\n\n").toString();
    }

    /** Settings, what the stage cost and saved, and per layer its rank and reconstruction error. */
    private static String lowRank(RunSummary.ModelEntry m, Map<String, Object> d) {
        StringBuilder md = new StringBuilder();
        String rule = d.get("energy") != null ? "energy " + d.get("energy") : "param_ratio " + d.get("param_ratio");
        md.append(f("Rank by %s, conv %s; fine-tuning %s epoch(s) a layer with the %s loss. Test accuracy %.4f (%s: "
                + "%s); %,d parameters (%s), %s multiply-adds (%s); file %,d bytes (%s).%n%n", rule, d.get("conv"),
                d.get("fine_tune_epochs"), d.get("loss"), m.testAccuracy(), m.stageResult().input(),
                number(d.get("input_test_accuracy"), "%.4f"), m.params(), number(d.get("input_params"), "%,.0f"),
                m.flopsPerSample() == null ? "n/a" : f("%,d", m.flopsPerSample()),
                number(d.get("input_multiply_adds"), "%,.0f"), m.fileBytes(), number(d.get("input_file_bytes"), "%,.0f")));
        if (d.get("layers") instanceof List<?> layers) {
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"layer", "matrix", "rank", "energy kept", "reconstruction error", "params before",
                "params after", "val. acc. factorized", "val. acc. fine-tuned"});
            for (Object o : layers) {
                Map<?, ?> l = (Map<?, ?>) o;
                boolean factorized = Boolean.TRUE.equals(l.get("factorized"));
                rows.add(new String[] {String.valueOf(l.get("layer")), String.valueOf(l.get("matrix")),
                    l.get("rank") + " of " + l.get("full_rank") + (factorized ? "" : " (kept: not smaller)"),
                    number(l.get("energy_kept"), "%.4f"), number(l.get("reconstruction_error"), "%.4f"),
                    number(l.get("params_before"), "%,.0f"),
                    number(l.get("params_after"), "%,.0f"),
                    number(l.get("validation_accuracy_factorized"), "%.4f"),
                    number(l.get("validation_accuracy_fine_tuned"), "%.4f")});
            }
            md.append(SummaryTable.render(rows, true)).append('\n');
        }
        return md.toString();
    }

    private static String number(Object value, String format) {
        return value instanceof Number n ? f(format, n.doubleValue()) : "n/a";
    }

    private static String f(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }
}
