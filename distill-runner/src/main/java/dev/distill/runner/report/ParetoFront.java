package dev.distill.runner.report;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The models worth considering when trading accuracy for size: those no other model beats on both
 * (at most the same file size and a strictly higher accuracy, or the same accuracy in a smaller file).
 */
public final class ParetoFront {

    private ParetoFront() {
    }

    /** A model as a point: file bytes (smaller is better) and accuracy (larger is better). */
    public record Point(String label, double bytes, double accuracy) {
    }

    /** The non-dominated points, from the smallest file to the largest (each more accurate than the last). */
    public static List<Point> of(List<Point> points) {
        List<Point> sorted = new ArrayList<>(points);
        // by size, and among equal sizes the most accurate first so that it alone is kept
        sorted.sort(Comparator.comparingDouble(Point::bytes).thenComparing(Comparator.comparingDouble(Point::accuracy)
                .reversed()));
        List<Point> front = new ArrayList<>();
        double best = Double.NEGATIVE_INFINITY;
        for (Point p : sorted) {
            if (p.accuracy() > best) {
                front.add(p);
                best = p.accuracy();
            }
        }
        return front;
    }
}
