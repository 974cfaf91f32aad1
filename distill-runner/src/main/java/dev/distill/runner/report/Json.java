package dev.distill.runner.report;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.distill.core.DistillException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** The project's one JSON mapper: snake_case keys, indented documents, compact lines for JSON lines. */
public final class Json {

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private Json() {
    }

    public static String pretty(Object value) {
        try {
            return MAPPER.writer(SerializationFeature.INDENT_OUTPUT).writeValueAsString(value) + "\n";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String line(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static RunSummary readSummary(Path file) {
        return read(file, RunSummary.class, "run summary");
    }

    /** Reads a JSON document the project wrote; {@code what} names it in the error. */
    public static <T> T read(Path file, Class<T> type, String what) {
        try {
            return MAPPER.readValue(file.toFile(), type);
        } catch (IOException e) {
            throw new DistillException(file + ": not a readable " + what + ": " + firstLine(e.getMessage()), e);
        }
    }

    /** As {@link #read(Path, Class, String)}, for a document already read as {@code text} from {@code file}. */
    public static <T> T read(String text, Path file, Class<T> type, String what) {
        try {
            return MAPPER.readValue(text, type);
        } catch (IOException e) {
            throw new DistillException(file + ": not a readable " + what + ": " + firstLine(e.getMessage()), e);
        }
    }

    private static String firstLine(String message) {
        return message == null ? "" : message.lines().findFirst().orElse("");
    }
}
