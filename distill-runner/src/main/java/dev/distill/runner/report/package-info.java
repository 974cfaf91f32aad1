/**
 * What a run reports, and the pages made from a run directory.
 *
 * <ul>
 *   <li>{@link dev.distill.runner.report.RunSummary} is summary.json; {@link dev.distill.runner.report.SummaryTable}
 *       the comparison table printed on the console and written into report.md
 *       ({@link dev.distill.runner.report.MarkdownReport}).</li>
 *   <li>{@link dev.distill.runner.report.ReportData} reads everything else a page needs from the run directory
 *       (metrics.jsonl, config.yaml, predictions/, the model files through
 *       {@link dev.distill.runner.report.SavedModel}), so that {@code distill report} can redraw any finished run
 *       without its data; {@link dev.distill.runner.report.HtmlReport} renders report.html and
 *       {@link dev.distill.runner.report.ComparisonPage} the page of {@code compare --out}.</li>
 *   <li>Plots come from XChart ({@link dev.distill.runner.report.Charts}) and are embedded as PNG data URIs: the
 *       page is one file that opens from disk and fetches nothing.
 *       {@link dev.distill.runner.report.ParetoFront} and {@link dev.distill.runner.report.SizeBudget} decide
 *       which models the plot joins and which one the table highlights.</li>
 * </ul>
 */
package dev.distill.runner.report;
