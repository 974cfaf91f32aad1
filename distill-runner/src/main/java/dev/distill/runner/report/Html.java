package dev.distill.runner.report;

/**
 * The page skeleton both HTML pages share: inline CSS and nothing fetched, so that a report opens from
 * disk, from a mail attachment or from a CI artifact exactly as it was written.
 */
final class Html {

    private Html() {
    }

    static final String STYLE = """
            body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
                   margin: 2em auto; max-width: 1300px; padding: 0 1em; color: #222; }
            h1 { margin-bottom: 0.2em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; }
            nav a { margin-right: 1em; }
            table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em; }
            th, td { border: 1px solid #ddd; padding: 0.25em 0.55em; }
            th { background: #f4f4f4; text-align: left; }
            td.n { text-align: right; font-variant-numeric: tabular-nums; }
            tr.pick td { background: #fff3bf; font-weight: 600; }
            .muted { color: #666; font-size: 0.9em; }
            li.verdict-helped strong { color: #2b8a3e; } li.verdict-hurt strong { color: #c92a2a; }
            .charts { display: flex; flex-wrap: wrap; gap: 1em; }
            .charts figure { margin: 0; }
            figcaption { font-size: 0.88em; color: #555; max-width: 600px; }
            pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.88em; }
            table.cm td { width: 2.6em; text-align: right; font-variant-numeric: tabular-nums; }
            """;

    /**
     * Text for element content and quoted attributes. Written here rather than taken from commons-text,
     * whose escaper needs a newer commons-lang3 than the one DL4J puts on the classpath.
     */
    static String escape(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    static String open(String title) {
        return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" + escape(title)
                + "</title>\n<style>\n" + STYLE + "</style>\n</head>\n<body>\n";
    }

    static String close() {
        return "</body>\n</html>\n";
    }

    static String img(String dataUri, String alt, String caption) {
        return "<figure><img src=\"" + dataUri + "\" alt=\"" + escape(alt) + "\">"
                + (caption == null ? "" : "<figcaption>" + escape(caption) + "</figcaption>") + "</figure>\n";
    }

    /** A table cell; numbers are right-aligned. */
    static String td(String text, boolean number) {
        return (number ? "<td class=\"n\">" : "<td>") + escape(text) + "</td>";
    }

    static String th(String... headers) {
        StringBuilder b = new StringBuilder("<tr>");
        for (String h : headers) {
            b.append("<th>").append(escape(h)).append("</th>");
        }
        return b.append("</tr>\n").toString();
    }
}
