package dev.distill.runner.pipeline;

import dev.distill.core.train.EpochMetrics;
import dev.distill.core.train.TrainingListener;
import java.io.PrintStream;
import java.util.Locale;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar per epoch (progress, ETA, loss, samples/s) on an interactive terminal, and one
 * summary line per epoch everywhere (so a log file stays readable with {@code tail -f}).
 */
final class ConsoleProgress implements TrainingListener {

    private final String label;
    private final PrintStream out;
    private final boolean interactive;
    private ProgressBar bar;
    private int epochs;
    private long started;

    ConsoleProgress(String label, PrintStream out, boolean interactive) {
        this.label = label;
        this.out = out;
        this.interactive = interactive;
    }

    @Override
    public void epochStarted(int epoch, int epochs, long examples) {
        this.epochs = epochs;
        this.started = System.nanoTime();
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
        if (bar != null) {
            double seconds = (System.nanoTime() - started) / 1e9;
            bar.stepTo(examplesDone);
            bar.setExtraMessage(String.format(Locale.ROOT, " loss %.4f %,.0f/s", batchLoss, examplesDone / seconds));
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
