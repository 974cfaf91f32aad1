package dev.distill.runner.report;

import dev.distill.core.io.ModelFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes a run directory's report.md and report.html, each atomically (a reader never sees half a page). */
public final class ReportFiles {

    private ReportFiles() {
    }

    public static void writeMarkdown(ReportData data) {
        write(data.dir().resolve(MarkdownReport.FILE), MarkdownReport.markdown(data.summary(), data.configYaml()));
    }

    public static void writeHtml(ReportData data, SizeBudget budget) {
        write(data.dir().resolve(HtmlReport.FILE), HtmlReport.render(data, budget));
    }

    public static void write(Path file, String content) {
        ModelFiles.writeAtomically(file, tmp -> Files.writeString(tmp, content, StandardCharsets.UTF_8));
    }
}
