package dev.distill.runner.cli;

import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * "Did you mean": the subcommand nearest a mistyped one. Picocli's own suggestion compares letter
 * pairs, so it finds nothing for a swap of two letters ({@code rnu}); an edit distance does.
 */
final class CommandNames {

    /** More edits than this and the word is taken for something else than a mistyped command. */
    private static final int MAX_EDITS = 2;

    private CommandNames() {
    }

    /**
     * One line for an unknown first word: the nearest command ("did you mean run?") and all of them,
     * or null when {@code unmatched} does not start with a word that could be a mistyped command.
     */
    static String suggestion(List<String> unmatched, Collection<String> commands) {
        if (unmatched.isEmpty() || unmatched.get(0).startsWith("-")) {
            return null;
        }
        String word = unmatched.get(0);
        String nearest = commands.stream().min(Comparator.comparingInt(c -> edits(word, c))).orElse(null);
        String known = "commands: " + String.join(", ", commands);
        if (nearest != null && edits(word, nearest) <= Math.min(MAX_EDITS, word.length() - 1)) {
            return "unknown command '" + word + "'; did you mean " + nearest + "? (" + known + ")";
        }
        return "unknown command '" + word + "' (" + known + "; distill help COMMAND says what one does)";
    }

    /** Edit distance with adjacent swaps counted as one edit (optimal string alignment). */
    static int edits(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
