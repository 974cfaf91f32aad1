package dev.distill.runner.report;

import dev.distill.core.DistillException;
import java.awt.Color;
import java.io.IOException;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The report's plots, drawn with XChart and embedded as PNG data URIs: a PNG inside the page needs no
 * file beside it and no network, and XChart's SVG output would carry namespace URLs into a page that
 * must reference nothing outside itself.
 */
public final class Charts {

    static {
        // the report is written by a command-line tool, usually on a machine without a display
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    static final int WIDTH = 600;
    static final int HEIGHT = 380;

    private Charts() {
    }

    /** One line per series over epochs 1..n (e.g. a model's validation accuracy). */
    public static XYChart epochs(String title, String yTitle, Map<String, double[]> series) {
        XYChart chart = base(title, "epoch", yTitle, WIDTH, HEIGHT);
        // whole epochs, and few enough ticks to stay readable over 30+ epochs
        chart.getStyler().setXAxisDecimalPattern("#");
        chart.getStyler().setXAxisTickMarkSpacingHint(60);
        for (Map.Entry<String, double[]> e : series.entrySet()) {
            double[] y = e.getValue();
            double[] x = new double[y.length];
            for (int i = 0; i < y.length; i++) {
                x[i] = i + 1;
            }
            XYSeries s = chart.addSeries(e.getKey(), x, y);
            s.setMarker(y.length > 30 ? SeriesMarkers.NONE : SeriesMarkers.CIRCLE);
        }
        return chart;
    }

    /** A group of models drawn as points (accuracy against file bytes, log x) with its Pareto front as a line. */
    public record ParetoGroup(String name, List<ParetoFront.Point> points, boolean pointPerSeries) {
    }

    /**
     * Test accuracy against file size on a log axis. Each group's points are one series (or, with
     * {@code pointPerSeries}, one series per point, so that the legend names every model), and each
     * group's Pareto front is a line through its non-dominated points.
     */
    public static XYChart pareto(String title, List<ParetoGroup> groups, int width, int height) {
        XYChart chart = base(title, "file bytes (log scale)", "test accuracy", width, height);
        chart.getStyler().setXAxisLogarithmic(true);
        chart.getStyler().setXAxisDecimalPattern("#,###");
        Color[] palette = chart.getStyler().getSeriesColors();
        int group = 0;
        for (ParetoGroup g : groups) {
            // a run's front is drawn in its points' colour so that several runs can be told apart
            Color color = g.pointPerSeries() ? new Color(90, 90, 90) : palette[group++ % palette.length];
            if (g.pointPerSeries()) {
                for (int i = 0; i < g.points().size(); i++) {
                    ParetoFront.Point p = g.points().get(i);
                    XYSeries s = scatter(chart, p.label(), List.of(p));
                    s.setMarkerColor(distinctColor(i, g.points().size()));
                    s.setMarker(MARKERS[i % MARKERS.length]);
                }
            } else {
                scatter(chart, g.name(), g.points()).setMarkerColor(color);
            }
            List<ParetoFront.Point> front = ParetoFront.of(g.points());
            XYSeries line = chart.addSeries((g.name().isEmpty() ? "" : g.name() + ": ") + "Pareto front",
                    front.stream().mapToDouble(ParetoFront.Point::bytes).toArray(),
                    front.stream().mapToDouble(ParetoFront.Point::accuracy).toArray());
            line.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
            line.setMarker(SeriesMarkers.NONE);
            line.setLineColor(color);
        }
        return chart;
    }

    /** Marker shapes, cycled with the colours so that no two of a dozen models look alike. */
    private static final org.knowm.xchart.style.markers.Marker[] MARKERS = {SeriesMarkers.CIRCLE, SeriesMarkers.SQUARE,
        SeriesMarkers.DIAMOND, SeriesMarkers.TRIANGLE_UP};

    /**
     * The colour of point {@code i} of {@code n}: hues evenly spread round the wheel, neighbours also
     * apart in brightness. XChart's default palette repeats similar hues (and wraps), which put two
     * models of the size plot in nearly one colour.
     */
    static Color distinctColor(int i, int n) {
        return Color.getHSBColor((float) i / Math.max(1, n), 0.9f, i % 2 == 0 ? 0.85f : 0.55f);
    }

    private static XYSeries scatter(XYChart chart, String name, List<ParetoFront.Point> points) {
        XYSeries s = chart.addSeries(name, points.stream().mapToDouble(ParetoFront.Point::bytes).toArray(),
                points.stream().mapToDouble(ParetoFront.Point::accuracy).toArray());
        s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        s.setMarker(SeriesMarkers.CIRCLE);
        return s;
    }

    /** The chart as a {@code data:image/png;base64,...} URI for an {@code <img src>}. */
    public static String dataUri(XYChart chart) {
        try {
            byte[] png = BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
            return "data:image/png;base64," + Base64.getEncoder().encodeToString(png);
        } catch (IOException e) {
            throw new DistillException("cannot draw the chart \"" + chart.getTitle() + "\": " + e.getMessage(), e);
        }
    }

    private static XYChart base(String title, String xTitle, String yTitle, int width, int height) {
        XYChart chart = new XYChartBuilder().width(width).height(height).title(title).xAxisTitle(xTitle)
                .yAxisTitle(yTitle).build();
        XYStyler styler = chart.getStyler();
        styler.setChartBackgroundColor(Color.WHITE);
        styler.setPlotBackgroundColor(Color.WHITE);
        styler.setPlotGridLinesColor(new Color(225, 225, 225));
        styler.setLegendPosition(Styler.LegendPosition.OutsideS);
        styler.setLegendBorderColor(Color.WHITE);
        styler.setAntiAlias(true);
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        return chart;
    }
}
