package dev.distill.runner.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;

/** The size plot tells every model apart: no two points in nearly one colour. */
class ChartsTest {

    private static double distance(Color a, Color b) {
        return Math.sqrt(Math.pow(a.getRed() - b.getRed(), 2) + Math.pow(a.getGreen() - b.getGreen(), 2)
                + Math.pow(a.getBlue() - b.getBlue(), 2));
    }

    @Test
    void upToADozenModelsGetColoursFarApart() {
        for (int n = 2; n <= 12; n++) {
            for (int i = 0; i < n; i++) {
                for (int j = i + 1; j < n; j++) {
                    double d = distance(Charts.distinctColor(i, n), Charts.distinctColor(j, n));
                    assertTrue(d > 80, n + " models: " + i + " and " + j + " are " + d + " apart in RGB");
                }
            }
        }
    }

    @Test
    void theSizePlotDrawsEachModelInItsOwnColourAndMarker() {
        List<ParetoFront.Point> points = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            points.add(new ParetoFront.Point("model" + i, 1000L * (i + 1), 0.5 + i / 100.0));
        }
        XYChart chart = Charts.pareto("size", List.of(new Charts.ParetoGroup("", points, true)), 600, 400);
        Set<String> looks = new HashSet<>();
        List<Color> colours = new ArrayList<>();
        for (XYSeries s : chart.getSeriesMap().values()) {
            if (s.getXYSeriesRenderStyle() == XYSeries.XYSeriesRenderStyle.Scatter) {
                colours.add((Color) s.getMarkerColor());
                looks.add(s.getMarkerColor() + "/" + s.getMarker().getClass().getSimpleName());
            }
        }
        assertEquals(9, colours.size());
        assertEquals(9, looks.size(), "colour and marker pairs: " + looks);
        for (int i = 0; i < colours.size(); i++) {
            for (int j = i + 1; j < colours.size(); j++) {
                assertTrue(distance(colours.get(i), colours.get(j)) > 80, i + " and " + j);
            }
        }
    }
}
