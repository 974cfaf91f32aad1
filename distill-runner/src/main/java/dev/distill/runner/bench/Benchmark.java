package dev.distill.runner.bench;

import dev.distill.core.modelfile.ModelFile;

import dev.distill.core.modelfile.ModelReader;

import dev.distill.core.DistillException;
import dev.distill.core.data.LabeledData;
import dev.distill.core.infer.ConvRuntime;
import dev.distill.core.quant.Dl4jToRuntime;
import dev.distill.runtime.Int8Dot;
import dev.distill.runtime.Model;
import dev.distill.runtime.ModelFormatException;
import dev.distill.runtime.Precision;
import dev.distill.runtime.Preprocessing;
import dev.distill.core.loss.DistillationLoss;
import dev.distill.core.data.Augmentation;
import dev.distill.core.train.TeacherLogits;
import dev.distill.core.train.Trainer;
import dev.distill.core.train.TrainingSpec;
import dev.distill.models.network.ComputeThreads;
import dev.distill.models.network.TrainingSteps;
import dev.distill.models.network.ConvBackend;
import dev.distill.models.network.Network;
import dev.distill.models.network.Networks;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.LayerSpec;
import dev.distill.core.chain.Chain;
import dev.distill.runner.config.ExperimentConfig;
import dev.distill.runner.config.ModelConfig;
import dev.distill.runner.pipeline.ExperimentData;
import dev.distill.runner.report.SavedModel;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.DoubleSupplier;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * Measures, in one process: the GEMM peak, then per model its training and inference speed (per conv
 * backend, the backends interleaved repeat by repeat so that load on a shared machine hits both
 * alike), batch-1 latency, and the overhead of a distillation epoch over a plain one.
 */
public final class Benchmark {

    private static final int GEMM_SIZE = 1024;
    private static final int WARMUP_BATCHES = 3;
    /** Untimed calls before the integer path's latencies (see {@link #integerLatenciesMs}). */
    private static final int INTEGER_WARMUP_CALLS = 5000;
    /** Untimed passes over the inference batch before distill-runtime's throughput (one call per example). */
    private static final int RUNTIME_WARMUP_PASSES = 20;

    private final BenchSettings settings;
    private final PrintStream log;

    public Benchmark(BenchSettings settings, PrintStream log) {
        this.settings = settings;
        this.log = log;
    }

    /** Benchmarks {@code modelNames} (declared models of {@code config}) on {@code data}. */
    public BenchReport run(ExperimentConfig config, ExperimentData data, List<String> modelNames, boolean quick) {
        return run(config, data, modelNames, List.of(), quick);
    }

    /** As above, and also the inference speed and size of each of {@code modelFiles} (zip or sparse). */
    public BenchReport run(ExperimentConfig config, ExperimentData data, List<String> modelNames,
            List<Path> modelFiles, boolean quick) {
        long started = System.nanoTime();
        double loadAtStart = MachineInfo.loadAverage();
        Map<String, ModelConfig.Declared> models = declared(config, modelNames);
        List<Double> gemmRates = gemmGflops();
        double gemm = Stopwatch.median(gemmRates);
        double bestGemm = Collections.max(gemmRates);
        log.printf(Locale.ROOT, "gemm %dx%d float: %.1f GFLOP/s (median of %d, best %.1f)%n", GEMM_SIZE, GEMM_SIZE,
                gemm, gemmRates.size(), bestGemm);
        List<BenchReport.ModelFigures> figures = new ArrayList<>();
        List<BenchReport.TrainerFigures> trainer = new ArrayList<>();
        for (ModelConfig.Declared model : models.values()) {
            List<BenchReport.ModelFigures> measured = measureModel(config, data, model, gemm);
            figures.addAll(measured);
            trainer.add(trainerOverhead(config, data, model, measured.get(0).trainSamplesPerS()));
        }
        BenchReport.KdOverhead kd = kdOverhead(config, data, student(config, models));
        BenchReport.LiveTeacherOverhead live = liveTeacherOverhead(config, data, student(config, models), bestGemm);
        List<BenchReport.SavedModelFigures> saved = new ArrayList<>();
        saved.addAll(measureFiles(modelFiles, data));
        return new BenchReport(config.file().toString(), quick, settings.repeats(), MachineInfo.describe(loadAtStart),
                gemm, figures, trainer, kd, live, saved, null, MachineInfo.peakRssBytes(),
                (System.nanoTime() - started) / 1e9);
    }

    private static Map<String, ModelConfig.Declared> declared(ExperimentConfig config, List<String> names) {
        Map<String, ModelConfig.Declared> out = new LinkedHashMap<>();
        for (String name : names) {
            ModelConfig model = config.models().get(name);
            if (model == null) {
                throw new DistillException(config.file() + ": no model named '" + name + "' (models: "
                        + String.join(", ", config.models().keySet()) + ")");
            }
            if (!(model instanceof ModelConfig.Declared d)) {
                throw new DistillException(config.file() + ": model '" + name
                        + "' is a pretrained file; bench measures declared models (layers:, graph: or zoo:)");
            }
            out.put(name, d);
        }
        return out;
    }

    /** The model distillation is measured on: the last link of the first chain, if benchmarked, else the last. */
    private static ModelConfig.Declared student(ExperimentConfig config, Map<String, ModelConfig.Declared> models) {
        for (Chain chain : config.chains()) {
            ModelConfig.Declared last = models.get(chain.models().get(chain.models().size() - 1));
            if (last != null) {
                return last;
            }
        }
        return new ArrayList<>(models.values()).get(models.size() - 1);
    }

    private int gemmRepeats() {
        return Math.max(5, settings.repeats());
    }

    /**
     * Float GEMM at 1024x1024 through ND4J's BLAS call, GFLOP/s of each repeat: the machine's practical peak (the
     * median is the denominator of train_efficiency, the best the live teacher's floor). Not through
     * {@code mmuli}: that goes through libnd4j's matmul op, which a throw-away timing (one thread, the two in
     * turns, median of 9, load ~3) measured at 24.8 GFLOP/s against 86.5 for the BLAS call on the same matrices.
     */
    List<Double> gemmGflops() {
        Nd4j.getRandom().setSeed(1);
        INDArray a = Nd4j.rand(DataType.FLOAT, GEMM_SIZE, GEMM_SIZE);
        INDArray b = Nd4j.rand(DataType.FLOAT, GEMM_SIZE, GEMM_SIZE);
        INDArray c = Nd4j.create(DataType.FLOAT, GEMM_SIZE, GEMM_SIZE);
        int perRepeat = 4;
        for (int i = 0; i < 3; i++) {
            Nd4j.gemm(a, b, c, false, false, 1.0, 0.0);
        }
        List<Double> gflops = new ArrayList<>();
        for (int r = 0; r < gemmRepeats(); r++) {
            double s = Stopwatch.seconds(() -> {
                for (int i = 0; i < perRepeat; i++) {
                    Nd4j.gemm(a, b, c, false, false, 1.0, 0.0);
                }
            });
            gflops.add(perRepeat * 2.0 * GEMM_SIZE * GEMM_SIZE * GEMM_SIZE / s / 1e9);
        }
        return gflops;
    }

    private List<BenchReport.ModelFigures> measureModel(ExperimentConfig config, ExperimentData data,
            ModelConfig.Declared model, double gemm) {
        // graphs are built of conv blocks
        boolean conv = !model.sequential() || model.spec().layers().stream().anyMatch(l -> l instanceof LayerSpec.Conv2d
                || l instanceof LayerSpec.Pool);
        List<ConvBackend> backends = conv ? settings.backends() : List.of(ConvBackend.DEFAULT);
        int batchSize = model.training().batchSize();
        List<DataSet> batches = trainingBatches(data.train(), batchSize, settings.trainBatches() + WARMUP_BATCHES);
        INDArray inferBatch = rows(data.test().features(), BenchSettings.INFER_BATCH);
        INDArray single = rows(data.test().features(), 1);

        List<Network> nets = new ArrayList<>();
        // each network's training step as a training of it computes (ComputeThreads' plan), as the Trainer does
        List<TrainingSteps> steps = new ArrayList<>();
        ComputeThreads.Plan trainPlan = null;
        for (ConvBackend backend : backends) {
            Network net = Networks.build(model.network(), config.data().input(),
                    model.training().updater(), model.training().weightDecay(), 0, new LossMCXENT());
            backend.apply(net);
            if (trainPlan == null) {
                trainPlan = ComputeThreads.planTraining(net, single, batchSize);
            }
            // trained with the layers the Trainer puts in (split replicas keep theirs), inferred with DL4J's
            try (Networks.SpedUpLayers spedUp = Networks.speedUpTraining(net);
                    ComputeThreads.Scope restore = ComputeThreads.use(trainPlan.threadsPerPart())) {
                TrainingSteps step = TrainingSteps.of(net, trainPlan);
                steps.add(step);
                batches.subList(0, WARMUP_BATCHES).forEach(step::fit);
            }
            net.output(inferBatch);
            nets.add(net);
        }
        try {
            return measureModel(model, data, gemm, conv, backends, batchSize, batches, inferBatch, single, nets, steps,
                    trainPlan);
        } finally {
            steps.forEach(TrainingSteps::close);
        }
    }

    private List<BenchReport.ModelFigures> measureModel(ModelConfig.Declared model, ExperimentData data, double gemm,
            boolean conv, List<ConvBackend> backends, int batchSize, List<DataSet> batches, INDArray inferBatch,
            INDArray single, List<Network> nets, List<TrainingSteps> steps, ComputeThreads.Plan trainPlan) {
        // ONNX Runtime as a peer: the first network exported and run beside DL4J's, in turns
        dev.distill.onnx.OrtModel ort = onnxPeer(model.name(), nets.get(0), inferBatch);
        List<Double> ortInfer = new ArrayList<>();
        // distill-runtime on the same weights (the network before the timed training below changes it, as
        // ONNX Runtime's copy), float32 and post-training int8, in the same turns
        Model runtimeFloat = runtimeOf(nets.get(0));
        Model runtimeInt8 = runtimeFloat == null ? null : int8RuntimeOf(nets.get(0), data.train().features());
        float[][] inferRows = rowsOf(inferBatch);
        List<Double> runtimeInfer = new ArrayList<>();
        List<Double> int8Infer = new ArrayList<>();
        for (Model warm : java.util.Arrays.asList(runtimeFloat, runtimeInt8)) {
            if (warm != null) {
                // until C2 has compiled the kernels the runtime runs interpreted, many times slower
                for (int k = 0; k < RUNTIME_WARMUP_PASSES; k++) {
                    runtimeSamplesPerS(warm, inferRows);
                }
            }
        }
        List<DataSet> timed = batches.subList(WARMUP_BATCHES, batches.size());
        int trainSamples = timed.stream().mapToInt(DataSet::numExamples).sum();
        List<List<Double>> train = emptyLists(backends.size());
        List<List<Double>> infer = emptyLists(backends.size());
        for (int r = 0; r < settings.repeats(); r++) {
            for (int i = 0; i < nets.size(); i++) {
                Network net = nets.get(i);
                // computed as a training of this network is (ComputeThreads' plan), as the Trainer does
                try (Networks.SpedUpLayers spedUp = Networks.speedUpTraining(net);
                        ComputeThreads.Scope restore = ComputeThreads.use(trainPlan.threadsPerPart())) {
                    TrainingSteps step = steps.get(i);
                    train.get(i).add(trainSamples / Stopwatch.seconds(() -> timed.forEach(step::fit)));
                }
                infer.get(i).add(inferSamplesPerS(net, inferBatch));
                if (i == 0 && ort != null) {
                    ortInfer.add(inferSamplesPerS(b -> ort.run(b, dev.distill.onnx.OnnxExporter.PROBABILITIES),
                            inferBatch));
                }
                if (i == 0 && runtimeFloat != null) {
                    runtimeInfer.add(runtimeSamplesPerS(runtimeFloat, inferRows));
                }
                if (i == 0 && runtimeInt8 != null) {
                    int8Infer.add(runtimeSamplesPerS(runtimeInt8, inferRows));
                }
            }
        }
        List<BenchReport.ModelFigures> out = new ArrayList<>();
        long macs = model.cost().multiplyAdds();
        for (int i = 0; i < nets.size(); i++) {
            Network net = nets.get(i);
            List<Double> latencies;
            List<Double> ortLatencies = null;
            List<Double> runtime;
            List<Double> int8Latencies = null;
            if (i == 0) {
                // one call of each in turn: DL4J, ONNX Runtime, the runtime's float32 and int8 paths
                List<Runnable> calls = new ArrayList<>();
                calls.add(() -> net.output(single));
                if (ort != null) {
                    calls.add(() -> ort.run(single, dev.distill.onnx.OnnxExporter.PROBABILITIES));
                }
                if (runtimeFloat != null) {
                    // both were made of the network as it was before the timed training: the same weights
                    calls.add(checkedCall(runtimeFloat, ort == null ? null
                            : ort.run(single, dev.distill.onnx.OnnxExporter.PROBABILITIES).toFloatVector(), single));
                }
                if (runtimeInt8 != null) {
                    calls.add(checkedCall(runtimeInt8, null, single));
                }
                List<List<Double>> all = latenciesMsInTurns(calls, Math.min(200, settings.latencyCalls()));
                latencies = all.get(0);
                int k = 1;
                ortLatencies = ort != null ? all.get(k++) : null;
                runtime = runtimeFloat != null ? all.get(k++) : null;
                int8Latencies = runtimeInt8 != null ? all.get(k) : null;
            } else {
                latencies = latenciesMs(() -> net.output(single));
                Model compiledOnRuntime = runtimeOf(net);
                runtime = compiledOnRuntime == null ? null : runtimeLatenciesMs(compiledOnRuntime, net, single);
            }
            double trainRate = Stopwatch.median(train.get(i));
            BenchReport.ModelFigures f = new BenchReport.ModelFigures(model.name(),
                    conv ? backends.get(i).name().toLowerCase(Locale.ROOT) : "-",
                    ConvBackend.acceleratedLayers(net.layers()), model.cost().params(), 2 * macs, batchSize,
                    trainPlan.threads(), trainPlan.parts(), trainRate, Stopwatch.median(infer.get(i)), Stopwatch.median(latencies),
                    Stopwatch.percentile(latencies, 99),
                    runtime == null ? null : Stopwatch.median(runtime),
                    runtime == null ? null : Stopwatch.percentile(runtime, 99),
                    3.0 * 2 * macs * trainRate / (gemm * 1e9),
                    ortLatencies == null ? null : Stopwatch.median(ortInfer),
                    ortLatencies == null ? null : Stopwatch.median(ortLatencies),
                    i == 0 && runtimeFloat != null ? Stopwatch.median(runtimeInfer) : null,
                    int8Latencies == null ? null : Stopwatch.median(int8Latencies),
                    int8Latencies == null ? null : Stopwatch.median(int8Infer));
            int fallbacks = ConvBackend.fallbacks(net.layers());
            if (fallbacks > 0) {
                log.printf("warning: %s: %d layer(s) gave up on oneDNN and fell back to DL4J's path%n", model.name(),
                        fallbacks);
            }
            log.printf(Locale.ROOT, "%-10s %-6s train %8.1f samples/s (%s)  infer %8.1f samples/s  batch-1 p50 %.3f ms"
                    + "  p99 %.3f ms%s  train_efficiency %.3f%n", f.model(), f.convBackend(), f.trainSamplesPerS(),
                    trainPlan, f.inferSamplesPerS(), f.inferLatencyMsP50(), f.inferLatencyMsP99(), runtime == null ? ""
                            : String.format(Locale.ROOT, " (distill-runtime float32 p50 %.4f ms  p99 %.4f ms)",
                                    f.runtimeLatencyMsP50(), f.runtimeLatencyMsP99()), f.trainEfficiency());
            if (ortLatencies != null) {
                log.printf(Locale.ROOT, "%-10s %-6s ONNX Runtime: infer %8.1f samples/s  batch-1 p50 %.4f ms%n", "", "",
                        f.onnxRuntimeInferSamplesPerS(), f.onnxRuntimeLatencyMsP50());
            }
            if (f.runtimeInferSamplesPerS() != null) {
                log.printf(Locale.ROOT, "%-10s %-6s distill-runtime float32: infer %8.1f samples/s  batch-1 p50 %.4f ms%s%n",
                        "", "", f.runtimeInferSamplesPerS(), f.runtimeLatencyMsP50(), ortLatencies == null ? ""
                                : String.format(Locale.ROOT, "  (%.2fx ONNX Runtime's latency, %.2fx its throughput)",
                                        f.runtimeLatencyMsP50() / f.onnxRuntimeLatencyMsP50(),
                                        f.runtimeInferSamplesPerS() / f.onnxRuntimeInferSamplesPerS()));
            }
            if (f.int8LatencyMsP50() != null) {
                log.printf(Locale.ROOT, "%-10s %-6s distill-runtime int8:    infer %8.1f samples/s  batch-1 p50 %.4f ms"
                        + "  (%.2fx faster than float32 at batch 1)%n", "", "", f.int8InferSamplesPerS(),
                        f.int8LatencyMsP50(), f.runtimeLatencyMsP50() / f.int8LatencyMsP50());
            }
            out.add(f);
        }
        return out;
    }

    /** Seconds a side of the Trainer's overhead measurement should take, so that a fast model's ratio is not noise. */
    static final double TRAINER_OVERHEAD_SECONDS = 1.0;

    /**
     * The Trainer against DL4J's plain fit on the same examples ({@link TrainerOverhead}), with its log line: as many
     * examples as the model trains in about {@link #TRAINER_OVERHEAD_SECONDS} at {@code trainSamplesPerS} (its
     * training figure), at least {@code trainBatches} x 4 batches, at most the training set. A fixed 10,240 took
     * the student under 0.1 s a side, and its ratio wandered from 0.72 to 1.07 between runs of one session.
     */
    private BenchReport.TrainerFigures trainerOverhead(ExperimentConfig config, ExperimentData data,
            ModelConfig.Declared model, double trainSamplesPerS) {
        TrainingSpec t = model.training();
        int fewest = settings.trainBatches() * t.batchSize() * 4;
        int examples = (int) Math.min(data.train().size(), Math.max(fewest, trainSamplesPerS * TRAINER_OVERHEAD_SECONDS));
        BenchReport.TrainerFigures f = TrainerOverhead.measure(model.name(),
                () -> Networks.build(model.network(), config.data().input(), t.updater(), t.weightDecay(), 0,
                        new LossMCXENT()),
                t, data.train(), examples, settings.repeats());
        log.printf(Locale.ROOT, "%-10s trainer %8.1f samples/s vs plain fit %8.1f (%,d examples): %.3f wall,"
                + " %.3f CPU (%.1f vs %.1f samples per CPU second)%n", f.model(), f.trainerSamplesPerS(),
                f.floorSamplesPerS(), f.examples(), f.wallRatio(), f.cpuRatio(), f.trainerCpuSamplesPerS(),
                f.floorCpuSamplesPerS());
        log.printf(Locale.ROOT, "%-10s profile, trainer: %s%n%-10s profile, plain fit: %s%n", "",
                StepProfile.describe(f.trainerProfile()), "", StepProfile.describe(f.floorProfile()));
        return f;
    }

    /**
     * {@code net} exported to ONNX and open in ONNX Runtime ({@code OMP_NUM_THREADS} threads, as ND4J),
     * checked to predict DL4J's classes on {@code batch}; null (with a line saying why) if it does not export.
     */
    private dev.distill.onnx.OrtModel onnxPeer(String name, Network net, INDArray batch) {
        byte[] onnx;
        try {
            onnx = dev.distill.onnx.OnnxExporter.export(net, java.util.Map.of()).toByteArray();
        } catch (dev.distill.core.DistillException e) {
            log.printf("%s: ONNX Runtime not measured (%s)%n", name, e.getMessage());
            return null;
        }
        dev.distill.onnx.OrtModel ort = dev.distill.onnx.OrtModel.of(onnx,
                dev.distill.onnx.OnnxTeacher.threadsFromEnvironment());
        if (!Nd4j.argMax(net.output(batch), 1).equals(
                Nd4j.argMax(ort.run(batch, dev.distill.onnx.OnnxExporter.PROBABILITIES), 1))) {
            throw new IllegalStateException("ONNX Runtime disagrees with DL4J on the benchmark batch");
        }
        return ort;
    }

    /**
     * A saved model loaded for measuring: its DL4J network (null for a packed file, which only distill-runtime
     * runs), its channels-last compiled form (null if that cannot run it), distill-runtime's float and
     * int8 paths (null where the model has none), and ONNX Runtime on the runtime's description of it (null
     * where the runtime cannot run it or it does not export).
     */
    private record LoadedFile(Path file, long bytes, Network net, ConvRuntime compiled, Model runtime, Model integer,
            dev.distill.onnx.OrtModel ort) {
    }

    /**
     * Inference of saved models on the test images: throughput at batch 256 on DL4J and on the compiled
     * runtime, batch-1 latency. Every repeat measures every file in turn, so that load on a shared
     * machine hits all of them alike and their ratios hold within the run.
     */
    private List<BenchReport.SavedModelFigures> measureFiles(List<Path> files, ExperimentData data) {
        INDArray inferBatch = rows(data.test().features(), BenchSettings.INFER_BATCH);
        INDArray single = rows(data.test().features(), 1);
        List<LoadedFile> loaded = new ArrayList<>();
        for (Path file : files) {
            ModelFile read = ModelReader.read(file);
            try {
                if (read instanceof ModelFile.Packed p) {
                    Model packed = p.model();
                    loaded.add(new LoadedFile(file, Files.size(file), null, null, packed.withPrecision(Precision.FLOAT32),
                            packed.supports(Precision.INT8) ? packed.withPrecision(Precision.INT8) : null,
                            packedOnnxPeer(file, packed)));
                    continue;
                }
                if (!(read instanceof ModelFile.Dl4j d)) {
                    throw new DistillException(file + ": an ONNX model; bench measures .zip, .sparse and .packed files");
                }
                Network net = d.network();
                net.output(inferBatch);
                Model runtime = runtimeOf(net);
                loaded.add(new LoadedFile(file, Files.size(file), net, compiled(net, inferBatch), runtime, null,
                        runtime == null ? null : packedOnnxPeer(file, runtime)));
            } catch (IOException e) {
                throw new DistillException(file + ": " + e.getMessage(), e);
            }
        }
        float[][] inferRows = rowsOf(inferBatch);
        for (LoadedFile f : loaded) {
            for (Model warm : java.util.Arrays.asList(f.runtime(), f.integer())) {
                for (int k = 0; warm != null && k < RUNTIME_WARMUP_PASSES; k++) {
                    runtimeSamplesPerS(warm, inferRows);
                }
            }
        }
        List<List<Double>> infer = emptyLists(loaded.size());
        List<List<Double>> compiledInfer = emptyLists(loaded.size());
        List<List<Double>> ortInfer = emptyLists(loaded.size());
        List<List<Double>> runtimeInfer = emptyLists(loaded.size());
        List<List<Double>> int8Infer = emptyLists(loaded.size());
        for (int r = 0; r < settings.repeats(); r++) {
            for (int i = 0; i < loaded.size(); i++) {
                LoadedFile f = loaded.get(i);
                if (f.net() != null) {
                    infer.get(i).add(inferSamplesPerS(f.net(), inferBatch));
                }
                if (f.compiled() != null) {
                    compiledInfer.get(i).add(inferSamplesPerS(f.compiled()::output, inferBatch));
                }
                if (f.ort() != null) {
                    ortInfer.get(i).add(inferSamplesPerS(b -> f.ort().run(b, dev.distill.onnx.OnnxExporter.PROBABILITIES),
                            inferBatch));
                }
                if (f.runtime() != null) {
                    runtimeInfer.get(i).add(runtimeSamplesPerS(f.runtime(), inferRows));
                }
                if (f.integer() != null) {
                    int8Infer.get(i).add(runtimeSamplesPerS(f.integer(), inferRows));
                }
            }
        }
        List<BenchReport.SavedModelFigures> out = new ArrayList<>();
        for (int i = 0; i < loaded.size(); i++) {
            out.add(fileFigures(loaded.get(i), infer.get(i).isEmpty() ? null : Stopwatch.median(infer.get(i)),
                    compiledInfer.get(i), medianOrNull(ortInfer.get(i)), medianOrNull(runtimeInfer.get(i)),
                    medianOrNull(int8Infer.get(i)), inferBatch, single));
        }
        return out;
    }

    private static Double medianOrNull(List<Double> values) {
        return values.isEmpty() ? null : Stopwatch.median(values);
    }

    /**
     * A saved model's runtime description exported by {@code PackedOnnxExporter} and open in ONNX Runtime (the
     * same ops and weights as the runtime's float path), or null (with a line saying why) if it does not export.
     */
    private dev.distill.onnx.OrtModel packedOnnxPeer(Path file, Model runtime) {
        try {
            byte[] onnx = dev.distill.onnx.PackedOnnxExporter.export(runtime.description(), java.util.Map.of())
                    .toByteArray();
            return dev.distill.onnx.OrtModel.of(onnx, dev.distill.onnx.OnnxTeacher.threadsFromEnvironment());
        } catch (DistillException e) {
            log.printf("%s: ONNX Runtime not measured (%s)%n", file.getFileName(), e.getMessage());
            return null;
        }
    }

    private BenchReport.SavedModelFigures fileFigures(LoadedFile loaded, Double inferSamplesPerS,
            List<Double> compiledInfer, Double ortSamplesPerS, Double runtimeSamplesPerS, Double int8SamplesPerS,
            INDArray inferBatch, INDArray single) {
        Network net = loaded.net();
        ConvRuntime compiled = loaded.compiled();
        List<BenchReport.StepTime> steps = new ArrayList<>();
        if (compiled != null) {
            double[] ms = compiled.stepMillis(inferBatch, Math.max(5, settings.repeats()));
            for (int i = 0; i < ms.length; i++) {
                steps.add(new BenchReport.StepTime(compiled.steps().get(i), ms[i]));
            }
        }
        List<Double> latencies = net == null ? null : latenciesMs(() -> net.output(single));
        Model integer = loaded.integer();
        float[] x = single.toFloatVector();
        dev.distill.onnx.OrtModel ort = loaded.ort();
        List<List<Double>> inTurns = integer == null ? null : integerLatenciesMs(integer, loaded.runtime(), ort, single);
        List<Double> ortLatencies = inTurns != null && ort != null ? inTurns.get(3) : null;
        List<Double> runtime;
        if (inTurns != null) {
            runtime = inTurns.get(0);
        } else if (loaded.runtime() != null && ort != null) {
            List<List<Double>> both = latenciesMsInTurns(List.of(checkedCall(loaded.runtime(), null, single),
                    () -> ort.run(single, dev.distill.onnx.OnnxExporter.PROBABILITIES)),
                    Math.min(200, settings.latencyCalls()));
            runtime = both.get(0);
            ortLatencies = both.get(1);
        } else {
            runtime = loaded.runtime() == null ? null : runtimeLatenciesMs(loaded.runtime(), net, single);
        }
        boolean dense = runtime != null;
        SavedModel counts = net != null ? SavedModel.of(net) : SavedModel.ofPacked(loaded.runtime());
        BenchReport.SavedModelFigures f = new BenchReport.SavedModelFigures(loaded.file().getFileName().toString(),
                loaded.bytes(), counts.params(), counts.nonzero(), inferSamplesPerS,
                latencies == null ? null : Stopwatch.median(latencies),
                latencies == null ? null : Stopwatch.percentile(latencies, 99), dense ? Stopwatch.median(runtime) : null,
                dense ? Stopwatch.percentile(runtime, 99) : null,
                compiled == null ? null : Stopwatch.median(compiledInfer),
                compiled == null ? null : Stopwatch.median(latenciesMs(() -> compiled.output(single))), steps,
                integer == null ? null : integer.int8Kernel(), integer == null ? null : Stopwatch.median(inTurns.get(1)),
                integer == null ? null : Stopwatch.median(inTurns.get(2)), runtimeSamplesPerS, int8SamplesPerS,
                ortLatencies == null ? null : Stopwatch.median(ortLatencies), ortLatencies == null ? null : ortSamplesPerS);
        log.printf(Locale.ROOT, "%-40s %,10d bytes  %,9d non-zero params  %s%s%s%n",
                f.file(), f.fileBytes(), f.nonzeroParams(), net == null ? "DL4J: none (a packed file runs on distill-runtime)"
                        : String.format(Locale.ROOT, "infer %9.1f samples/s  batch-1 p50 %.3f ms", f.inferSamplesPerS(),
                                f.inferLatencyMsP50()),
                dense ? String.format(Locale.ROOT, " (distill-runtime float32 p50 %.4f ms)", f.runtimeLatencyMsP50()) : "",
                compiled == null ? "" : String.format(Locale.ROOT, "  compiled %9.1f samples/s  batch-1 p50 %.3f ms",
                        f.compiledSamplesPerS(), f.compiledLatencyMsP50()));
        if (integer != null) {
            log.printf(Locale.ROOT, "    distill-runtime int8 batch-1 p50 %.4f ms (%s kernel; scalar kernel %.4f ms) vs "
                    + "float32 %.4f ms: %.2fx; batch 256 %.1f vs %.1f samples/s%n", f.integerLatencyMsP50(),
                    f.integerKernel(), f.integerScalarLatencyMsP50(), f.runtimeLatencyMsP50(),
                    f.runtimeLatencyMsP50() / f.integerLatencyMsP50(), f.int8InferSamplesPerS(),
                    f.runtimeInferSamplesPerS());
        }
        if (f.onnxRuntimeLatencyMsP50() != null) {
            log.printf(Locale.ROOT, "    ONNX Runtime (the file exported by PackedOnnxExporter) batch-1 p50 %.4f ms, batch 256"
                    + " %.1f samples/s; distill-runtime float32 %.2fx its latency, %.2fx its throughput%n",
                    f.onnxRuntimeLatencyMsP50(), f.onnxRuntimeInferSamplesPerS(),
                    f.runtimeLatencyMsP50() / f.onnxRuntimeLatencyMsP50(),
                    f.runtimeInferSamplesPerS() / f.onnxRuntimeInferSamplesPerS());
        }
        if (compiled != null) {
            StringBuilder line = new StringBuilder("    compiled steps (ms per 256):");
            for (BenchReport.StepTime step : steps) {
                line.append(String.format(Locale.ROOT, " %s %.2f", step.step(), step.ms()));
            }
            log.println(line);
        }
        return f;
    }

    private static List<List<Double>> emptyLists(int n) {
        List<List<Double>> lists = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            lists.add(new ArrayList<>());
        }
        return lists;
    }

    /** Milliseconds of each of {@code latencyCalls} calls, after as many (at most 200) untimed ones. */
    private List<Double> latenciesMs(Runnable call) {
        return latenciesMsInTurns(List.of(call), Math.min(200, settings.latencyCalls())).get(0);
    }

    /**
     * Milliseconds of {@code latencyCalls} calls of each of {@code calls}, one of each in turn (so load on a
     * shared machine hits them alike), after {@code warmUp} untimed rounds.
     */
    private List<List<Double>> latenciesMsInTurns(List<Runnable> calls, int warmUp) {
        for (int i = 0; i < warmUp; i++) {
            calls.forEach(Runnable::run);
        }
        List<List<Double>> ms = emptyLists(calls.size());
        for (int i = 0; i < settings.latencyCalls(); i++) {
            for (int k = 0; k < calls.size(); k++) {
                ms.get(k).add(Stopwatch.seconds(calls.get(k)) * 1e3);
            }
        }
        return ms;
    }

    /** {@code net} on distill-runtime's float path, or null for a network the runtime cannot run (a graph). */
    private static Model runtimeOf(Network net) {
        if (!(net instanceof Network.Sequential sequential)) {
            return null;
        }
        try {
            return Model.of(Dl4jToRuntime.describe(sequential.net(), List.of(), List.of(), Preprocessing.NONE,
                    List.of()), "the benchmarked model");
        } catch (IllegalArgumentException | ModelFormatException unsupported) {
            return null;
        }
    }

    /**
     * {@code net} quantized post-training to int8 (ranges calibrated on a few batches of {@code train}) on
     * distill-runtime's int8 path, or null where the runtime runs none of it in integers.
     */
    private static Model int8RuntimeOf(Network net, INDArray train) {
        if (!(net instanceof Network.Sequential sequential)) {
            return null;
        }
        try {
            dev.distill.core.quant.Quantization.Outcome o = dev.distill.core.quant.Quantization.postTrainingInt8(
                    sequential.net(), rows(train, 2048), 256, 8);
            Model m = Model.of(Dl4jToRuntime.describe(o.net(), o.tensors(), o.activations(), Preprocessing.NONE,
                    List.of()), "the benchmarked model, int8");
            return m.supports(Precision.INT8) ? m.withPrecision(Precision.INT8) : null;
        } catch (IllegalArgumentException | ModelFormatException | DistillException unsupported) {
            return null;
        }
    }

    /** One batch's examples as float arrays (the runtime takes one example at a time). */
    private static float[][] rowsOf(INDArray batch) {
        float[][] rows = new float[(int) batch.rows()][];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = batch.getRow(i).toFloatVector();
        }
        return rows;
    }

    /**
     * Samples per second of distill-runtime over {@code inferBatches} passes of the batch's examples, one call
     * each (the runtime has no batch dimension: a batch of 256 is 256 calls). The classes are summed so the
     * JIT cannot drop the work.
     */
    private double runtimeSamplesPerS(Model runtime, float[][] rows) {
        long[] sink = new long[1];
        double s = Stopwatch.seconds(() -> {
            for (int k = 0; k < settings.inferBatches(); k++) {
                for (float[] row : rows) {
                    sink[0] += runtime.classifyPreprocessed(row);
                }
            }
        });
        check(sink[0] >= 0, "distill-runtime returned a negative class");
        return settings.inferBatches() * (double) rows.length / s;
    }

    /**
     * One batch-1 call of {@code runtime} whose class is checked against its first answer (so the JIT cannot
     * drop the work); the answer itself is first checked against {@code reference}'s probabilities when
     * given (1e-4: a barely trained network's near-ties may flip the class on float rounding alone).
     */
    private static Runnable checkedCall(Model runtime, float[] reference, INDArray single) {
        float[] x = single.toFloatVector();
        float[] p = runtime.predictPreprocessed(x);
        if (reference != null) {
            for (int i = 0; i < p.length; i++) {
                check(Math.abs(p[i] - reference[i]) <= 1e-4, "distill-runtime's float path disagrees with ONNX Runtime");
            }
        }
        int expected = Model.argmax(p);
        return () -> check(runtime.classifyPreprocessed(x) == expected, "distill-runtime is not deterministic");
    }

    /**
     * Batch-1 latencies of distill-runtime's float path. Each call's class is checked (against DL4J's when
     * there is a DL4J network), so the JIT cannot drop the work.
     */
    private List<Double> runtimeLatenciesMs(Model runtime, Network net, INDArray single) {
        float[] x = single.toFloatVector();
        int expected = net != null ? Nd4j.argMax(net.output(single), 1).getInt(0) : runtime.classifyPreprocessed(x);
        return latenciesMs(() -> check(runtime.classifyPreprocessed(x) == expected,
                "distill-runtime's float path disagrees with DL4J"));
    }

    /**
     * Batch-1 latencies of the runtime's float32 path, its int8 path and the int8 path on the scalar kernel,
     * one call of each in turn, so load on a shared machine hits the three alike. Every call's class is
     * checked to be stable, so the JIT cannot drop the work.
     */
    private List<List<Double>> integerLatenciesMs(Model integer, Model fp32, dev.distill.onnx.OrtModel ort,
            INDArray single) {
        float[] x = single.toFloatVector();
        Model scalar = integer.withInt8Kernel(Int8Dot.scalar());
        int floatClass = fp32.classifyPreprocessed(x);
        int integerClass = integer.classifyPreprocessed(x);
        List<Runnable> calls = new ArrayList<>(List.of(
                () -> check(fp32.classifyPreprocessed(x) == floatClass, "the float path is not deterministic"),
                () -> check(integer.classifyPreprocessed(x) == integerClass, "the int8 path is not deterministic"),
                () -> check(scalar.classifyPreprocessed(x) == integerClass, "the int8 kernels disagree")));
        if (ort != null) {
            calls.add(() -> ort.run(single, dev.distill.onnx.OnnxExporter.PROBABILITIES));
        }
        // the Vector API runs interpreted (hundreds of times slower) until C2 compiles it: warm up longer
        // than the other paths; a few thousand calls of ~10 us each
        return latenciesMsInTurns(calls, INTEGER_WARMUP_CALLS);
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException(what + " on the benchmark example");
        }
    }

    /** Samples per second of one timed repeat: {@code inferBatches} forward passes of {@code batch}. */
    private double inferSamplesPerS(Network net, INDArray batch) {
        return inferSamplesPerS(net::output, batch);
    }

    private double inferSamplesPerS(java.util.function.UnaryOperator<INDArray> forward, INDArray batch) {
        return settings.inferBatches() * (double) batch.rows() / Stopwatch.seconds(() -> {
            for (int k = 0; k < settings.inferBatches(); k++) {
                forward.apply(batch);
            }
        });
    }

    /**
     * {@code net} compiled to the channels-last runtime and checked against DL4J on {@code batch} (same
     * predicted class for every example), or null for a network the runtime cannot run.
     */
    private static ConvRuntime compiled(Network net, INDArray batch) {
        if (!(net instanceof Network.Sequential sequential)) {
            return null;
        }
        ConvRuntime runtime;
        try {
            runtime = ConvRuntime.compile(sequential.net());
        } catch (IllegalArgumentException unsupported) {
            return null;
        }
        INDArray expected = Nd4j.argMax(net.output(batch), 1);
        if (!expected.equals(Nd4j.argMax(runtime.output(batch), 1))) {
            throw new IllegalStateException("the compiled runtime disagrees with DL4J on the benchmark batch");
        }
        return runtime;
    }

    /** Consecutive batches of real training examples (the order does not change the cost). */
    private static List<DataSet> trainingBatches(LabeledData train, int batchSize, int count) {
        INDArray oneHot = train.oneHot();
        List<DataSet> batches = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            long start = ((long) i * batchSize) % Math.max(1, train.size() - batchSize);
            batches.add(new DataSet(
                    train.features().get(NDArrayIndex.interval(start, start + batchSize), NDArrayIndex.all()).dup(),
                    oneHot.get(NDArrayIndex.interval(start, start + batchSize), NDArrayIndex.all()).dup()));
        }
        return batches;
    }

    private static INDArray rows(INDArray features, int n) {
        return features.get(NDArrayIndex.interval(0, Math.min(n, features.rows())), NDArrayIndex.all()).dup();
    }

    /**
     * One epoch of {@code model} through the Trainer, distilled (labels and cached teacher logits) vs on
     * hard labels, interleaved, median of the repeats. The teacher logits are Gaussian: the loss costs
     * the same whatever the teacher said, and no teacher has to be trained first.
     */
    private BenchReport.KdOverhead kdOverhead(ExperimentConfig config, ExperimentData data,
            ModelConfig.Declared model) {
        LabeledData train = data.train();
        int n = settings.kdExamples() == 0 ? train.size() : Math.min(settings.kdExamples(), train.size());
        INDArray features = rows(train.features(), n);
        INDArray oneHot = rows(train.oneHot(), n);
        Nd4j.getRandom().setSeed(7);
        INDArray logits = Nd4j.randn(DataType.FLOAT, n, config.data().classes()).muli(3);
        INDArray kdTargets = DistillationLoss.labels(oneHot, logits);
        LabeledData validation = validation(data, settings.kdExamples());
        TrainingSpec t = model.training();
        Trainer oneEpoch = new Trainer(new TrainingSpec(1, t.batchSize(), t.optimizer(), t.learningRate(),
                t.schedule(), t.weightDecay()), List.of());
        org.nd4j.linalg.lossfunctions.ILossFunction loss = config.distillation().loss();
        double[] median = mediansInTurns(List.of(
                () -> epochSeconds(model, config, oneEpoch, features, kdTargets, validation, loss),
                () -> epochSeconds(model, config, oneEpoch, features, oneHot, validation, new LossMCXENT())));
        double kdMedian = median[0];
        double hardMedian = median[1];
        log.printf(Locale.ROOT, "kd_overhead %s: %.2f s/epoch distilled vs %.2f s/epoch on labels (%,d examples):"
                + " %.3f%n", model.name(), kdMedian, hardMedian, n, kdMedian / hardMedian);
        return new BenchReport.KdOverhead(model.name(), n, kdMedian, hardMedian, kdMedian / hardMedian);
    }

    /**
     * One augmented epoch of {@code model} distilled from a live teacher (its logits on every view) over the
     * same augmented epoch on labels alone, each with batches made serially and prepared one ahead
     * ({@code distill.prefetch}): four epochs a round, every other round in reverse order, median of the
     * rounds. The teacher is the first chain's, built from its declared layers and left untrained: its
     * forward pass costs the same whatever its weights. The augmentation is the student's own, else shift 2
     * and flip. Null, with a line saying why, for flat data or a teacher that is not a declared model.
     * Beside the ratios, the lowest one reachable here: the teacher's forward passes at {@code bestGemmGflops}
     * (the best GEMM repeat: a bound should not inherit a repeat slowed by the machine's other work).
     */
    private BenchReport.LiveTeacherOverhead liveTeacherOverhead(ExperimentConfig config, ExperimentData data,
            ModelConfig.Declared model, double bestGemmGflops) {
        InputShape shape = config.data().input();
        if (!shape.image()) {
            log.println("live_teacher_overhead: skipped (augmentation needs images; the data are flat: " + shape + ")");
            return null;
        }
        String teacherName = config.chains().isEmpty() ? null : config.chains().get(0).models().get(0);
        if (!(teacherName != null && config.models().get(teacherName) instanceof ModelConfig.Declared teacher)) {
            log.println("live_teacher_overhead: skipped (" + (teacherName == null ? "no chain names a teacher"
                    : "the first chain's teacher '" + teacherName + "' is not a declared model") + ")");
            return null;
        }
        LabeledData train = data.train();
        int n = settings.liveExamples() == 0 ? train.size() : Math.min(settings.liveExamples(), train.size());
        INDArray features = rows(train.features(), n);
        INDArray oneHot = rows(train.oneHot(), n);
        LabeledData validation = validation(data, settings.liveExamples());
        TrainingSpec t = model.training();
        Augmentation augment = t.augment().active() ? t.augment() : new Augmentation(2, true, 0);
        TrainingSpec oneEpoch = new TrainingSpec(1, t.batchSize(), t.optimizer(), t.learningRate(), t.schedule(),
                t.weightDecay(), augment);
        TeacherLogits.Live live = TeacherLogits.live(Networks.build(teacher.network(), shape,
                teacher.training().updater(), 0, 0, new LossMCXENT()));
        Trainer onLabels = new Trainer(oneEpoch, List.of()).withAugmentation(shape, null);
        Trainer fromTeacher = new Trainer(oneEpoch, List.of()).withAugmentation(shape, live);
        // serial labels, serial teacher, prefetched labels, prefetched teacher
        List<DoubleSupplier> epochs = new ArrayList<>();
        for (boolean prefetch : new boolean[] {false, true}) {
            epochs.add(() -> Trainer.withPrefetch(prefetch, () -> epochSeconds(model, config, onLabels, features,
                    oneHot, validation, new LossMCXENT())));
            epochs.add(() -> Trainer.withPrefetch(prefetch, () -> epochSeconds(model, config, fromTeacher, features,
                    oneHot, validation, config.distillation().loss())));
        }
        double[] median = mediansInTurns(epochs);
        long teacherMacs = teacher.cost().multiplyAdds();
        double teacherAtGemmRate = 2.0 * teacherMacs * n / (bestGemmGflops * 1e9);
        double lowestReachable = Math.max(1.0, teacherAtGemmRate / Math.max(median[0], median[2]));
        BenchReport.LiveTeacherOverhead f = new BenchReport.LiveTeacherOverhead(model.name(), teacherName,
                live.how(), augment.toString(), n, median[1], median[0], median[1] / median[0],
                Trainer.withPrefetch(true, () -> Trainer.prefetchThreads(live)), median[3], median[2],
                median[3] / median[2], teacherMacs, bestGemmGflops, teacherAtGemmRate, lowestReachable);
        log.printf(Locale.ROOT, "live_teacher_overhead %s (teacher %s on %s, %s, %,d examples): serial %.2f s/epoch"
                + " vs %.2f s on labels: %.3f; prefetched (the teacher's batches on %d threads) %.2f s vs %.2f s: %.3f;"
                + " lowest reachable here %.2f (the teacher's %,d multiply-adds a view at the GEMM rate: %.2f s)%n",
                f.model(), f.teacher(), f.teacherEngine(), f.augmentation(), n, f.serialLiveSecondsPerEpoch(),
                f.serialLabelsSecondsPerEpoch(), f.serialRatio(), f.prefetchThreads(),
                f.prefetchedLiveSecondsPerEpoch(), f.prefetchedLabelsSecondsPerEpoch(), f.prefetchedRatio(),
                f.lowestReachableRatio(), teacherMacs, teacherAtGemmRate);
        return f;
    }

    /**
     * The median seconds of each of {@code epochs} over {@code kdRepeats} rounds after an untimed one, each round
     * in the reverse order of the one before: whichever runs later inherits the others' garbage and cache state.
     */
    private double[] mediansInTurns(List<DoubleSupplier> epochs) {
        List<List<Double>> seconds = emptyLists(epochs.size());
        for (int r = -1; r < settings.kdRepeats(); r++) {     // r = -1: warm-up, not counted
            for (int k = 0; k < epochs.size(); k++) {
                int i = r % 2 == 0 ? k : epochs.size() - 1 - k;
                double s = epochs.get(i).getAsDouble();
                if (r >= 0) {
                    seconds.get(i).add(s);
                }
            }
        }
        return seconds.stream().mapToDouble(Stopwatch::median).toArray();
    }

    /** The validation data of an overhead's epochs: all of it with the whole training set, else 500 examples. */
    private static LabeledData validation(ExperimentData data, int examples) {
        return examples == 0 ? data.validation() : data.validation().subset(java.util.stream.IntStream.range(0,
                Math.min(500, data.validation().size())).toArray());
    }

    /** One epoch of a fresh {@code model} with {@code loss} through {@code trainer}, in seconds. */
    private static double epochSeconds(ModelConfig.Declared model, ExperimentConfig config, Trainer trainer,
            INDArray features, INDArray targets, LabeledData validation,
            org.nd4j.linalg.lossfunctions.ILossFunction loss) {
        TrainingSpec spec = trainer.spec();
        Network net = Networks.build(model.network(), config.data().input(), spec.updater(), spec.weightDecay(), 0,
                loss);
        System.gc();   // start each timed epoch without the previous one's garbage
        return Stopwatch.seconds(() -> trainer.fit(net, features, targets, validation, 0, null));
    }
}
