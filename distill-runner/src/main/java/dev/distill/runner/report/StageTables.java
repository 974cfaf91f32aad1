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
            if (m.stage() == null) {
                continue;
            }
            if (md.length() == 0) {
                md.append("## Stages\n\n");
            }
            Map<String, Object> d = m.stageDetails() == null ? Map.of() : m.stageDetails();
            md.append(f("### %s (%s of %s)%n%n", m.id(), m.stage(), m.input()));
            if ("low_rank".equals(m.stage())) {
                md.append(lowRank(m, d));
                continue;
            }
            md.append(f("%s, %s, %s; fine-tuning %s epoch(s) with the %s loss. Sparsity %.4f; test accuracy %.4f "
                    + "(%s: %s); %,d non-zero parameters; file %,d bytes (%s: %s bytes; the same network as a DL4J zip: "
                    + "%s bytes); inference %s vs %s examples/s (load average %s).%n%n", d.get("method"), d.get("scope"),
                    d.get("schedule"), d.get("fine_tune_epochs"), d.get("loss"), m.sparsity(), m.testAccuracy(),
                    m.input(), number(d.get("input_test_accuracy"), "%.4f"), m.params(), m.fileBytes(), m.input(),
                    number(d.get("input_file_bytes"), "%,.0f"), number(d.get("dense_zip_bytes"), "%,.0f"),
                    number(d.get("inference_samples_per_s"), "%,.0f"),
                    number(d.get("input_inference_samples_per_s"), "%,.0f"), number(d.get("load_average"), "%.2f")));
            if (d.get("stopped") != null) {
                md.append("Stopped at ").append(d.get("stopped")).append(".\n\n");
            }
            if (m.tensors() != null) {
                List<String[]> rows = new ArrayList<>();
                rows.add(new String[] {"layer", "tensor", "sparsity", "values", "non-zero", "stored as", "dense bytes",
                    "stored bytes"});
                for (RunSummary.TensorEntry t : m.tensors()) {
                    String as = t.encoding().equals("dense") ? "dense" : f("%s, %d-byte index", t.encoding(),
                            t.indexBytes());
                    rows.add(new String[] {t.layer(), t.tensor(),
                        f("%.3f", t.params() == 0 ? 0 : 1 - (double) t.nonzero() / t.params()), f("%,d", t.params()),
                        f("%,d", t.nonzero()), as, f("%,d", t.denseBytes()), f("%,d", t.storedBytes())});
                }
                md.append(SummaryTable.render(rows, true)).append('\n');
            }
        }
        return md.toString();
    }

    /** Settings, what the stage cost and saved, and per layer its rank and reconstruction error. */
    private static String lowRank(RunSummary.ModelEntry m, Map<String, Object> d) {
        StringBuilder md = new StringBuilder();
        String rule = d.get("energy") != null ? "energy " + d.get("energy") : "param_ratio " + d.get("param_ratio");
        md.append(f("Rank by %s, conv %s; fine-tuning %s epoch(s) a layer with the %s loss. Test accuracy %.4f (%s: "
                + "%s); %,d parameters (%s), %s multiply-adds (%s); file %,d bytes (%s).%n%n", rule, d.get("conv"),
                d.get("fine_tune_epochs"), d.get("loss"), m.testAccuracy(), m.input(),
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
