package dev.distill.runner.config;

import dev.distill.core.DistillException;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.events.AliasEvent;
import org.yaml.snakeyaml.events.CollectionEndEvent;
import org.yaml.snakeyaml.events.CollectionStartEvent;
import org.yaml.snakeyaml.events.Event;

/**
 * A config file's text, read within limits before SnakeYAML builds anything from it: at most
 * {@link #MAX_BYTES} bytes (a real config is a few KB; SnakeYAML's reading time grows with the square
 * of the size), valid UTF-8 (the first bad byte located), at most {@link #MAX_ALIASES} aliases (the
 * billion-laughs file) and {@link #MAX_DEPTH} levels of nesting, each refusal one line with the file
 * and line. {@link #options()} sets the same limits in SnakeYAML's own {@link LoaderOptions}, for
 * every YAML this project reads.
 */
public final class ConfigText {

    /** A config of a few KB is usual; the largest shipped one is far below this. */
    public static final int MAX_BYTES = 1 << 20;
    /** Aliases ({@code *name}) in one document: a handful is usual; nested ones multiply (billion laughs). */
    public static final int MAX_ALIASES = 50;
    /** Levels of mappings and lists: a config uses about five. */
    public static final int MAX_DEPTH = 50;

    private ConfigText() {
    }

    /** SnakeYAML's loader options with this project's limits. */
    public static LoaderOptions options() {
        LoaderOptions options = new LoaderOptions();
        options.setCodePointLimit(MAX_BYTES);
        options.setMaxAliasesForCollections(MAX_ALIASES);
        options.setNestingDepthLimit(MAX_DEPTH);
        options.setAllowRecursiveKeys(false);
        options.setAllowDuplicateKeys(true);
        return options;
    }

    /**
     * The file's text, or a one-line {@link DistillException}: too large, not UTF-8 (which byte,
     * which line), unreadable.
     */
    public static String read(Path file) {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            // never more than the limit and one byte are read, whatever the file's size
            bytes = in.readNBytes(MAX_BYTES + 1);
        } catch (IOException e) {
            throw new DistillException(file + ": cannot read config: " + e.getMessage(), e);
        }
        if (bytes.length > MAX_BYTES) {
            throw new DistillException(String.format(Locale.ROOT, "%s: more than %,d bytes; a config is a few KB "
                    + "(is this the right file?)", file, MAX_BYTES));
        }
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult result = decoder.decode(in, out, true);
        if (result.isError()) {
            int at = in.position();
            int line = 1;
            for (int i = 0; i < at; i++) {
                line += bytes[i] == '\n' ? 1 : 0;
            }
            throw new ConfigException(file + ":" + line, "", String.format(Locale.ROOT,
                    "not UTF-8 text: byte 0x%02x at byte offset %d is not valid UTF-8 (save the config as UTF-8)",
                    bytes[at] & 0xFF, at));
        }
        decoder.flush(out);
        return out.flip().toString();
    }

    /**
     * Walks the YAML's parse events (which build nothing) and refuses, with the line, more aliases or
     * deeper nesting than the limits, before the composer would expand or recurse into them.
     *
     * @param where the file (a {@code file:line} location is made from it) or a {@code --set} option
     */
    public static void checkStructure(Yaml yaml, String text, String where) {
        int aliases = 0;
        int depth = 0;
        try {
            for (Event e : yaml.parse(new StringReader(text))) {
                if (e instanceof AliasEvent && ++aliases > MAX_ALIASES) {
                    throw new ConfigException(at(where, e), "", "more than " + MAX_ALIASES + " aliases (*name); a "
                            + "config needs a few (is this a billion-laughs file?)");
                }
                if (e instanceof CollectionStartEvent && ++depth > MAX_DEPTH) {
                    throw new ConfigException(at(where, e), "", "nested more than " + MAX_DEPTH + " levels deep; a "
                            + "config needs about five");
                }
                if (e instanceof CollectionEndEvent) {
                    depth--;
                }
            }
        } catch (YAMLException malformed) {
            // malformed YAML: the composer reports it with its line
        }
    }

    private static String at(String where, Event e) {
        return where.startsWith("--set ") || e.getStartMark() == null ? where
                : where + ":" + (e.getStartMark().getLine() + 1);
    }
}
