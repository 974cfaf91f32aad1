package dev.distill.runner.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where a training step's time goes, by step kind, from Java Flight Recorder's samples of the
 * benchmark's own thread: JFR samples a thread running Java code and a thread inside a native call
 * (ND4J's kernels) alike, so the shares cover the whole step. Each sample is put under the first kind
 * whose marker is on its stack, in the order of {@link Kind}: the loss before the backward pass (the
 * output layer's gradient calls the loss from inside backpropagation), the backward pass before the
 * forward pass (backpropagation recomputes pre-activations).
 */
final class StepProfile {

    /** A sampling period short enough for a few seconds of training to give some thousand samples. */
    private static final Duration PERIOD = Duration.ofMillis(2);

    /** A step kind and the frames that mark it. */
    enum Kind {
        DATA("dev.distill.core.train.Trainer.batch", "dev.distill.core.data.Augmenter", "TeacherLogits"),
        VALIDATION("dev.distill.core.eval.Accuracy"),
        LOSS("computeScore", "getGradientsAndDelta", "org.nd4j.linalg.lossfunctions.", "dev.distill.core.loss."),
        UPDATER("org.deeplearning4j.nn.updater.", "org.nd4j.linalg.learning."),
        BACKWARD("backpropGradient", "calcBackpropGradients", "calcGradient"),
        FORWARD("ffToLayerActivations", "feedForward", "activate", "preOutput", "outputOfLayerDetached"),
        OTHER();

        private final List<String> markers;

        Kind(String... markers) {
            this.markers = List.of(markers);
        }

        boolean marks(String frame) {
            return markers.stream().anyMatch(frame::contains);
        }

        String key() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final Recording recording = new Recording();

    StepProfile() {
        recording.enable("jdk.ExecutionSample").withPeriod(PERIOD);
        recording.enable("jdk.NativeMethodSample").withPeriod(PERIOD);
    }

    void start() {
        recording.start();
    }

    /** Stops the recording and returns the stacks (frame names, innermost first) it sampled on {@code thread}. */
    List<List<String>> stop(Thread thread) {
        Path file = null;
        try {
            file = Files.createTempFile("distill-bench-", ".jfr");
            recording.stop();
            recording.dump(file);
            List<List<String>> stacks = new ArrayList<>();
            for (RecordedEvent event : RecordingFile.readAllEvents(file)) {
                if (event.getThread("sampledThread") != null
                        && event.getThread("sampledThread").getJavaThreadId() == thread.getId()
                        && event.getStackTrace() != null) {
                    stacks.add(event.getStackTrace().getFrames().stream().map(StepProfile::name).toList());
                }
            }
            return stacks;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            recording.close();
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException ignored) {
                    // a temporary file left behind is harmless
                }
            }
        }
    }

    /**
     * The share of each step kind among the {@code stacks} that {@code inScope} accepts, in the order of
     * {@link Kind}, and their number under "samples"; empty when none is in scope.
     */
    static Map<String, Double> shares(List<List<String>> stacks, Predicate<List<String>> inScope) {
        Map<Kind, Integer> counts = new EnumMap<>(Kind.class);
        int total = 0;
        for (List<String> frames : stacks) {
            if (inScope.test(frames)) {
                counts.merge(kindOf(frames), 1, Integer::sum);
                total++;
            }
        }
        Map<String, Double> shares = new LinkedHashMap<>();
        if (total > 0) {
            for (Kind kind : Kind.values()) {
                shares.put(kind.key(), counts.getOrDefault(kind, 0) / (double) total);
            }
            shares.put("samples", (double) total);
        }
        return shares;
    }

    /** "data 3%, forward 31%, ... (1,234 samples)", for the console. */
    static String describe(Map<String, Double> shares) {
        if (shares.isEmpty()) {
            return "no samples";
        }
        StringBuilder line = new StringBuilder();
        for (Kind kind : Kind.values()) {
            line.append(String.format(Locale.ROOT, "%s %.0f%%, ", kind.key(), 100 * shares.get(kind.key())));
        }
        return line.append(String.format(Locale.ROOT, "(%,.0f samples)", shares.get("samples"))).toString();
    }

    /** The kind of one sample: the first kind, in declaration order, with a marker anywhere on the stack. */
    static Kind kindOf(List<String> frames) {
        for (Kind kind : Kind.values()) {
            if (frames.stream().anyMatch(kind::marks)) {
                return kind;
            }
        }
        return Kind.OTHER;
    }

    private static String name(RecordedFrame frame) {
        return frame.getMethod().getType().getName() + "." + frame.getMethod().getName();
    }
}
