package dev.distill.runner.pipeline;

import dev.distill.core.train.EpochMetrics;
import dev.distill.core.train.TrainingListener;
import java.io.PrintStream;
import java.util.Locale;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar per epoch (progress, ETA, loss, samples/s) on an interactive terminal; in a log
 * file, a progress line every {@value #LOG_INTERVAL_SECONDS} s instead (a bar's carriage returns
 * would make it unreadable with {@code tail -f}); and one summary line per epoch everywhere.
 */
final class ConsoleProgress implements TrainingListener {

    private final String label;
    private final PrintStream out;
    private final boolean interactive;
    private ProgressBar bar;
    private int epochs;
    private int epoch;
    private long started;
    private long lastLogged;
    private long examples;

    static final int LOG_INTERVAL_SECONDS = 30;

    ConsoleProgress(String label, PrintStream out, boolean interactive) {
        this.label = label;
        this.out = out;
        this.interactive = interactive;
    }

    @Override
    public void epochStarted(int epoch, int epochs, long examples) {
        this.epochs = epochs;
        this.started = System.nanoTime();
        this.lastLogged = started;
        this.examples = examples;
        this.epoch = epoch;
        if (interactive) {
            bar = new ProgressBarBuilder()
                    .setTaskName(label + " " + epoch + "/" + epochs)
                    .setInitialMax(examples)
                    .setStyle(ProgressBarStyle.ASCII)
                    .setUpdateIntervalMillis(250)
                    .setConsumer(new me.tongfei.progressbar.InteractiveConsoleProgressBarConsumer(System.err))
                    .build();
        }
    }

    @Override
    public void batchDone(long examplesDone, double batchLoss) {
        long now = System.nanoTime();
        double seconds = (now - started) / 1e9;
        if (bar != null) {
            bar.stepTo(examplesDone);
            bar.setExtraMessage(String.format(Locale.ROOT, " loss %.4f %,.0f/s", batchLoss, examplesDone / seconds));
        } else if (now - lastLogged >= LOG_INTERVAL_SECONDS * 1_000_000_000L && examplesDone < examples) {
            lastLogged = now;
            double rate = examplesDone / seconds;
            out.printf(Locale.ROOT, "  %-28s epoch %2d/%d  %,d/%,d (%.0f%%)  loss %.4f  %,.0f samples/s  ETA %.0f s%n",
                    label, epoch, epochs, examplesDone, examples, 100.0 * examplesDone / examples, batchLoss, rate,
                    (examples - examplesDone) / rate);
            out.flush();
        }
    }

    @Override
    public void epochDone(EpochMetrics m, boolean best) {
        if (bar != null) {
            bar.close();
            bar = null;
        }
        out.printf(Locale.ROOT, "  %-28s epoch %2d/%d  loss %.4f  val acc %.4f  %6.1f s  %,8.0f samples/s%s%n",
                label, m.epoch(), epochs, m.trainLoss(), m.validationAccuracy(), m.seconds(), m.samplesPerSecond(),
                best ? "  best" : "");
        out.flush();
    }
}
