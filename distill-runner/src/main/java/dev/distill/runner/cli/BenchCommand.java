package dev.distill.runner.cli;

import dev.distill.core.DistillException;
import dev.distill.core.io.ModelFiles;
import dev.distill.models.network.ConvBackend;
import dev.distill.runner.bench.BenchReport;
import dev.distill.runner.bench.BenchSettings;
import dev.distill.runner.bench.Benchmark;
import dev.distill.runner.bench.PeerComparisons;
import dev.distill.runner.config.DefaultPaths;
import dev.distill.runner.config.ExperimentConfig;
import dev.distill.runner.config.ModelConfig;
import dev.distill.runner.pipeline.ExperimentData;
import dev.distill.runner.report.Json;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "bench", mixinStandardHelpOptions = true, description = "Measure training and inference speed of a config's models on this machine"
        + " (GEMM peak, samples/s, batch-1 latency, distillation overhead) and write bench.json.")
final class BenchCommand implements Callable<Integer> {

    @Parameters(paramLabel = "CONFIG", arity = "0..1",
            description = "Config whose models and data to measure (default: configs/fashion-mnist-takd.yaml).")
    Path config;

    @Option(names = "--models", split = ",", paramLabel = "NAME",
            description = "Models to measure (default: every declared model of the config's chains).")
    List<String> models;

    @Option(names = "--conv", paramLabel = "BACKEND", defaultValue = "auto",
            description = "Conv backend for conv models: auto, onednn, dl4j, or both (before/after in one run).")
    String conv;

    @Option(names = "--quick", description = "A reduced run (under a minute) that checks the command works.")
    boolean quick;

    @Option(names = "--repeats", paramLabel = "N", description = "Timed repeats per figure (median reported); the"
            + " distillation and live-teacher overheads get three times as many rounds.")
    Integer repeats;

    @Option(names = "--latency-calls", paramLabel = "N",
            description = "Single-example calls timed for each batch-1 latency (default 2000; 50 with --quick).")
    Integer latencyCalls;

    @Option(names = "--infer-batches", paramLabel = "N",
            description = "Batches of 256 per timed inference repeat (default 8; 1 with --quick).")
    Integer inferBatches;

    @Option(names = "--run", paramLabel = "RUN_DIR", description = "Also measure every model file of this run"
            + " directory (distilled, pruned: size and inference speed side by side); its config is the default CONFIG.")
    Path run;

    @Option(names = "--out", paramLabel = "DIR", description = "Where to write bench.json (default: here).")
    Path out;

    @Option(names = "--peer", paramLabel = "JSON", description = "A peer's figures (../shared/peer/speed.py --out),"
            + " measured alternately with this benchmark: bench.json gains them and our ratios to them.")
    Path peer;

    @Mixin
    ConfigOptions options;

    @Override
    public Integer call() {
        PrintStream console = DistillCli.Streams.out;
        List<ConvBackend> backends = backends(conv);
        if (repeats != null && repeats < 1) {
            throw new DistillException("--repeats: must be a positive integer, got " + repeats);
        }
        List<Path> modelFiles = run == null ? List.of() : modelFiles(run);
        java.util.Map<String, Object> peerFigures = peer == null ? null : PeerComparisons.read(peer);
        ExperimentConfig experiment = options.load(config != null ? config
                : run != null ? run.resolve("config.yaml") : DefaultPaths.fashionMnistConfig());
        List<String> names = models != null ? models : chainModels(experiment);
        ExperimentData data = ExperimentData.load(experiment.data(), experiment.seed());
        BenchSettings settings = quick ? BenchSettings.quick(backends) : BenchSettings.full(backends);
        if (repeats != null) {
            settings = settings.withRepeats(repeats);
        }
        if (inferBatches != null) {
            if (inferBatches < 1) {
                throw new DistillException("--infer-batches: must be a positive integer, got " + inferBatches);
            }
            settings = settings.withInferBatches(inferBatches);
        }
        if (latencyCalls != null) {
            if (latencyCalls < 1) {
                throw new DistillException("--latency-calls: must be a positive integer, got " + latencyCalls);
            }
            settings = settings.withLatencyCalls(latencyCalls);
        }
        console.printf("distill bench %s%s: %s on %s%n", experiment.name(), quick ? " (quick)" : "",
                String.join(", ", names), data.name());
        BenchReport measured = new Benchmark(settings, console).run(experiment, data, names, modelFiles, quick);
        BenchReport report = peerFigures == null ? measured
                : measured.withPeer(PeerComparisons.compare(peer, peerFigures, measured));
        if (report.peer() != null) {
            for (BenchReport.PeerRatio r : report.peer().ratios()) {
                console.printf(Locale.ROOT, "vs peer: %-55s distill %10.3f  peer %10.3f  %.2fx%n", r.figure(),
                        r.distill(), r.peer(), r.ratio());
            }
        }
        Path file = (out != null ? out : Path.of("")).toAbsolutePath().resolve("bench.json");
        ModelFiles.writeAtomically(file, tmp -> Files.writeString(tmp, Json.pretty(report), StandardCharsets.UTF_8));
        BenchReport.Machine m = report.machine();
        console.printf(Locale.ROOT, "native build %s (oneDNN %s), OMP threads %s, OMP_WAIT_POLICY %s, peak RSS %,d MB, load average %.2f"
                + " -> %.2f, %.0f s%n", m.nativeBuild(), m.oneDnn() ? "yes" : "no", m.ompThreads(), m.ompWaitPolicy(),
                report.peakRssBytes() >> 20, m.loadAverage().get(0), m.loadAverage().get(1), report.seconds());
        console.println("wrote " + file);
        return 0;
    }

    private static List<ConvBackend> backends(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (!List.of("auto", "onednn", "dl4j", "both").contains(v)) {
            throw new DistillException("--conv: unknown value '" + value + "' (expected auto, onednn, dl4j or both)");
        }
        try {
            return v.equals("both") ? List.of(ConvBackend.fromSetting("onednn"), ConvBackend.DL4J)
                    : List.of(ConvBackend.fromSetting(v));
        } catch (IllegalArgumentException e) {
            throw new DistillException("--conv " + value + ": " + e.getMessage());
        }
    }

    /** The run's model files, largest first (the teacher leads, compressed students follow). */
    private static List<Path> modelFiles(Path runDir) {
        Path models = runDir.resolve("models");
        if (!Files.isDirectory(models)) {
            throw new DistillException(runDir + ": not a run directory (no models/ in it)");
        }
        try (var files = Files.list(models)) {
            return files.filter(Files::isRegularFile)
                    .filter(f -> f.toString().endsWith(".zip") || f.toString().endsWith(".sparse")
                            || f.toString().endsWith(".packed"))
                    .sorted(java.util.Comparator.comparingLong(BenchCommand::size).reversed()
                            .thenComparing(Path::toString))
                    .toList();
        } catch (java.io.IOException e) {
            throw new DistillException(models + ": cannot list (" + e.getMessage() + ")", e);
        }
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (java.io.IOException e) {
            return 0;
        }
    }

    /** Every declared model named in a chain, in the config's order (teacher, assistants, student). */
    private static List<String> chainModels(ExperimentConfig experiment) {
        List<String> names = new ArrayList<>();
        for (String name : experiment.models().keySet()) {
            boolean inChain = experiment.chains().stream().anyMatch(c -> c.models().contains(name));
            if (inChain && experiment.models().get(name) instanceof ModelConfig.Declared) {
                names.add(name);
            }
        }
        return names;
    }
}
