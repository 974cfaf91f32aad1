package dev.distill.runner.cli;

import dev.distill.core.DiskFullException;
import dev.distill.core.DistillException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.Arrays;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The command line. Exit codes: 0 success, 2 bad input (config, data, model files, arguments: one
 * line on stderr, the stack trace only with {@code --verbose}), 3 the machine (the disk is full: one
 * line naming the file), 1 an internal error.
 */
@Command(name = "distill", mixinStandardHelpOptions = true, version = "distill 0.1.0",
        description = "Knowledge distillation (teacher -> assistants -> student) from one YAML file.",
        subcommands = {RunCommand.class, ValidateCommand.class, CompareCommand.class, ReportCommand.class,
            EvaluateCommand.class, BenchCommand.class, ResumeCommand.class, StatusCommand.class,
            SensitivityCommand.class, ExportCommand.class, CommandLine.HelpCommand.class})
public final class DistillCli implements Runnable {

    public static final int BAD_INPUT = 2;
    public static final int INTERNAL_ERROR = 1;
    /** The environment failed, not the input: the disk (or the quota) is full. */
    public static final int ENVIRONMENT = 3;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "name a command: run, resume, status, validate, compare, report, evaluate, bench, sensitivity or export");
    }

    public static void main(String[] args) {
        System.exit(execute(args, System.out, System.err));
    }

    /** Runs the command line and returns its exit code (tests call this instead of main). */
    public static int execute(String[] args, PrintStream out, PrintStream err) {
        // before anything starts ND4J: its ops then run through the fenced executioner from the first one
        dev.distill.models.nd4j.NativeSafety.prepare();
        dev.distill.models.nd4j.JavaCppSettings.prepare();
        try {
            // a malformed thread count or prefetch setting is the command line's mistake: said before anything runs
            dev.distill.models.network.ComputeThreads.forced();
            dev.distill.core.train.Trainer.prefetchThreads(null);
        } catch (IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            return BAD_INPUT;
        }
        boolean verbose = Arrays.asList(args).contains("--verbose");
        CommandLine cli = new CommandLine(new DistillCli());
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        CommandLine.IParameterExceptionHandler usage = cli.getParameterExceptionHandler();
        cli.setParameterExceptionHandler((ex, arguments) -> {
            String suggestion = ex instanceof CommandLine.UnmatchedArgumentException unmatched
                    && unmatched.getCommandLine() == cli ? CommandNames.suggestion(unmatched.getUnmatched(),
                            cli.getSubcommands().keySet()) : null;
            if (suggestion == null) {
                return usage.handleParseException(ex, arguments);
            }
            err.println("error: " + suggestion);
            return BAD_INPUT;
        });
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            if (ex instanceof DiskFullException || DiskFullException.isDiskFull(ex)) {
                // a write that did not go through our writers names no file: say what we know
                err.println("error: " + (ex instanceof DiskFullException ? ex.getMessage()
                        : "the disk is full (" + ex.getMessage() + "); free some space, then run the command again"));
                if (verbose) {
                    ex.printStackTrace(err);
                }
                return ENVIRONMENT;
            }
            if (ex instanceof DistillException) {
                err.println("error: " + ex.getMessage());
                if (verbose) {
                    ex.printStackTrace(err);
                }
                return BAD_INPUT;
            }
            err.println("internal error: " + ex + (verbose ? "" : " (run with --verbose for the stack trace)"));
            if (verbose) {
                ex.printStackTrace(err);
            }
            return INTERNAL_ERROR;
        });
        cli.setExecutionStrategy(parseResult -> {
            // the commands print to the stream the caller gave
            Streams.out = out;
            return new CommandLine.RunLast().execute(parseResult);
        });
        return cli.execute(args);
    }

    /** Where commands print; set per execution so that tests can capture it. */
    static final class Streams {
        static PrintStream out = System.out;

        private Streams() {
        }
    }
}
