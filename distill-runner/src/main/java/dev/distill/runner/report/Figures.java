package dev.distill.runner.report;

import java.util.Locale;

/** How the HTML pages write numbers, in one place so that the tables and the tests agree. */
public final class Figures {

    private Figures() {
    }

    /** Test accuracy as a fraction with four decimals, mean ± sample std where there are several seeds. */
    public static String accuracy(RunSummary.ModelEntry m) {
        if (m.seeds().testAccuracyStd() != null && m.seeds().testAccuracyPerSeed() != null) {
            return f("%.4f ± %.4f", m.accuracy(), m.seeds().testAccuracyStd());
        }
        return f("%.4f", m.accuracy());
    }

    public static String count(long n) {
        return f("%,d", n);
    }

    /** {@code part} as a percentage of {@code whole}, e.g. "2.3%". */
    public static String share(double part, double whole) {
        if (whole == 0) {
            return "";
        }
        double pct = 100 * part / whole;
        return pct >= 10 || pct == 0 ? f("%.0f%%", pct) : f("%.1f%%", pct);
    }

    /** A difference in accuracy in percentage points, signed. */
    public static String points(double difference) {
        return f("%+.2f pts", 100 * difference);
    }

    public static String seconds(double s) {
        return s >= 100 ? f("%,.0f s", s) : f("%.1f s", s);
    }

    static String f(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }
}
