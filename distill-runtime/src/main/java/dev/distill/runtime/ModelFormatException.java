package dev.distill.runtime;

/**
 * A file or stream that is not a packed model this runtime can run: the message is one line naming the
 * source and what is wrong (truncated, damaged, another version, a layer that does not fit its input).
 */
public final class ModelFormatException extends Exception {

    private static final long serialVersionUID = 1L;

    public ModelFormatException(String message) {
        super(oneLine(message));
    }

    public ModelFormatException(String message, Throwable cause) {
        super(oneLine(message), cause);
    }

    /** Control characters (a damaged file's key may hold line breaks) as '?', so the message stays one line. */
    private static String oneLine(String message) {
        StringBuilder b = new StringBuilder(message.length());
        for (int i = 0; i < message.length(); i++) {
            char c = message.charAt(i);
            b.append(Character.isISOControl(c) ? '?' : c);
        }
        return b.toString();
    }
}
