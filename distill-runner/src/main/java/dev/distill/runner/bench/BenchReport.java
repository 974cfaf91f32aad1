package dev.distill.runner.bench;

import java.util.List;

/**
 * What {@code bench.json} holds. Speeds are medians over {@code repeats}; {@code train_efficiency} is
 * the achieved training FLOP/s (3 x forward multiply-adds x 2 x samples/s) over {@code gemm_gflops}.
 */
public record BenchReport(String config, boolean quick, int repeats, Machine machine, double gemmGflops,
        List<ModelFigures> models, List<TrainerFigures> trainerOverhead, KdOverhead kdOverhead,
        LiveTeacherOverhead liveTeacherOverhead, List<SavedModelFigures> savedModels, PeerComparison peer, long peakRssBytes, double seconds) {

    public BenchReport {
        models = List.copyOf(models);
        trainerOverhead = List.copyOf(trainerOverhead);
        savedModels = List.copyOf(savedModels);
    }

    /** The same report beside a peer's figures (null: none). */
    public BenchReport withPeer(PeerComparison comparison) {
        return new BenchReport(config, quick, repeats, machine, gemmGflops, models, trainerOverhead, kdOverhead,
                liveTeacherOverhead, savedModels, comparison, peakRssBytes, seconds);
    }

    /**
     * The project's Trainer against the engine's floor (DL4J's plain {@code fit} on batches built
     * beforehand), one epoch over the same examples each, in turns.
     *
     * @param floorSamplesPerS   plain {@code fit}, wall clock (median)
     * @param trainerSamplesPerS the Trainer, wall clock (median)
     * @param wallRatio          trainer over floor, wall clock (1.0: no overhead)
     * @param cpuRatio           the same on this thread's CPU clock: the figure to read under load with one
     *                           OpenMP thread (all of ND4J's work then runs on the calling thread)
     * @param floorCpuSamplesPerS   plain {@code fit}, samples per second of this thread's CPU time (median)
     * @param trainerCpuSamplesPerS the Trainer, the same
     * @param floorProfile       share of each step kind in the floor's samples (Java Flight Recorder), and
     *                           the number of samples
     * @param trainerProfile     the same for the Trainer's turns
     */
    public record TrainerFigures(String model, int examples, double floorSamplesPerS, double trainerSamplesPerS,
            double wallRatio, double cpuRatio, double floorCpuSamplesPerS, double trainerCpuSamplesPerS,
            java.util.Map<String, Double> floorProfile,
            java.util.Map<String, Double> trainerProfile) {
    }

    /**
     * A peer's figures (e.g. {@code ../shared/peer/speed.py}'s JSON, run alternately with this benchmark)
     * and ours over theirs for every figure both have.
     */
    public record PeerComparison(String file, java.util.Map<String, Object> figures, List<PeerRatio> ratios) {
        public PeerComparison {
            figures = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(figures));
            ratios = List.copyOf(ratios);
        }
    }

    /**
     * One figure, ours and the peer's; {@code ratio} is ours over theirs for speeds and theirs over ours for
     * latencies, so that above 1 always means distill is faster.
     */
    public record PeerRatio(String figure, double distill, double peer, double ratio) {
    }

    /**
     * A model file of a run directory (distilled, pruned, ...): its size and inference speed, so that a
     * compressed student stands next to its teacher.
     *
     * @param inferSamplesPerS    DL4J's inference at batch 256 (with its batch-1 latencies); null for a packed
     *                            file, which only distill-runtime runs
     * @param runtimeLatencyMsP50 as in {@link ModelFigures}
     * @param compiledSamplesPerS  inference at batch 256 through {@code ConvRuntime} (channels-last libnd4j
     *                             ops, reused buffers, batch norm and pooling folded); null for a network it
     *                             cannot compile (graphs, pruned sparse files are compiled dense)
     * @param compiledLatencyMsP50 batch-1 latency through that runtime (median); null with it
     * @param compiledStepsMs      where that time goes: each compiled step with its median milliseconds per
     *                             batch of 256; empty when {@code compiledSamplesPerS} is null
     * @param integerKernel        for an INT8 packed model, the int8 path's kernel ("vector" with
     *                             {@code DISTILL_VECTOR_API=1}, else "scalar"); null for other files
     * @param integerLatencyMsP50  batch-1 latency of distill-runtime's int8 path on that kernel (median),
     *                             measured in the same turns as {@code runtimeLatencyMsP50}, its float32 path
     *                             on the same (dequantized) file; null with the kernel
     * @param integerScalarLatencyMsP50 the same on the scalar kernel; null with the kernel
     * @param runtimeInferSamplesPerS distill-runtime's float32 path on the batch of 256 (one call per example),
     *                             timed in the same repeats as the others; null where the runtime cannot run it
     * @param int8InferSamplesPerS the same on the int8 path; null with {@code integerKernel}
     * @param onnxRuntimeLatencyMsP50 the runtime's description of the file exported by {@code PackedOnnxExporter}
     *                             and run in ONNX Runtime, batch-1, one call in turn with each runtime path;
     *                             null where the runtime cannot run the file or it does not export
     * @param onnxRuntimeInferSamplesPerS its batches of 256, in the same repeats; null with the latency
     */
    public record SavedModelFigures(String file, long fileBytes, long params, long nonzeroParams,
            Double inferSamplesPerS, Double inferLatencyMsP50, Double inferLatencyMsP99, Double runtimeLatencyMsP50,
            Double runtimeLatencyMsP99, Double compiledSamplesPerS, Double compiledLatencyMsP50,
            List<StepTime> compiledStepsMs, String integerKernel, Double integerLatencyMsP50,
            Double integerScalarLatencyMsP50, Double runtimeInferSamplesPerS, Double int8InferSamplesPerS,
            Double onnxRuntimeLatencyMsP50, Double onnxRuntimeInferSamplesPerS) {

        public SavedModelFigures {
            compiledStepsMs = List.copyOf(compiledStepsMs);
        }
    }

    /** One step of a compiled network and its median milliseconds per batch. */
    public record StepTime(String step, double ms) {
    }

    /**
     * The machine as the process saw it.
     *
     * @param nativeBuild  the nd4j-native platform directory the native library was loaded from
     * @param ompThreads   OpenMP threads ND4J uses ({@code OMP_NUM_THREADS} if set)
     * @param loadAverage  the 1-minute load average at the start and at the end of the benchmark
     */
    public record Machine(String cpu, int cores, String nativeBuild, boolean oneDnn, String ompThreads,
            String ompWaitPolicy, String blasThreads, String java, List<Double> loadAverage) {
    }

    /**
     * One model on one conv backend.
     *
     * @param oneDnnLayers      layers computed by oneDNN (0 on the DL4J backend or for a model without conv)
     * @param flopsPerSample    2 x forward multiply-adds
     * @param runtimeLatencyMsP50 batch-1 latency of distill-runtime's float32 path; null for models it cannot
     *                          run (graphs)
     * @param onnxRuntimeInferSamplesPerS the model exported to ONNX, in ONNX Runtime: batches of 256, timed
     *                          in turns with DL4J's; null on the second conv backend or if it does not export
     * @param onnxRuntimeLatencyMsP50 its batch-1 latency, one call in turn with one DL4J call (and one call of
     *                          each runtime path below)
     * @param runtimeInferSamplesPerS distill-runtime's float32 path on the batch of 256, one example per call,
     *                          timed in the same repeats as ONNX Runtime's; null on the second backend or for graphs
     * @param int8LatencyMsP50  distill-runtime's int8 path (the model quantized post-training), batch-1, in the
     *                          same turns; null where the runtime runs no op of the model in integers
     * @param int8InferSamplesPerS the int8 path on the batch of 256; null with the latency
     */
    public record ModelFigures(String model, String convBackend, int oneDnnLayers, long params, long flopsPerSample,
            int batchSize, int trainThreads, int trainParts, double trainSamplesPerS, double inferSamplesPerS, double inferLatencyMsP50,
            double inferLatencyMsP99, Double runtimeLatencyMsP50, Double runtimeLatencyMsP99,
            double trainEfficiency, Double onnxRuntimeInferSamplesPerS, Double onnxRuntimeLatencyMsP50,
            Double runtimeInferSamplesPerS, Double int8LatencyMsP50, Double int8InferSamplesPerS) {
    }

    /**
     * Seconds per epoch of a student distilled with cached teacher logits over the same student on hard
     * labels, both through the project's Trainer on the same examples.
     */
    public record KdOverhead(String model, int examples, double kdSecondsPerEpoch, double hardSecondsPerEpoch,
            double ratio) {
    }

    /**
     * Seconds per augmented epoch of a student distilled from a live teacher (its logits computed on every
     * view) and of the same student on the same views with labels alone, both through the project's Trainer;
     * with each batch made on the training thread ({@code serial}) and with the next ones prepared on
     * {@code prefetchThreads} threads of their own while the student trains ({@code prefetched}, the default:
     * {@code Trainer.prefetchThreads}). Null in {@code bench.json} where there is no such figure (flat data, or a
     * teacher that is not a declared model).
     *
     * @param teacherEngine what computes the teacher's logits ("compiled runtime" or DL4J's output())
     * @param serialRatio     live teacher over labels, both serial
     * @param prefetchThreads the threads that made the teacher's batches in the prefetched epochs
     * @param prefetchedRatio live teacher over labels, both prefetched
     * @param teacherMultiplyAddsPerView the teacher's forward pass on one view, as its spec counts it
     * @param bestGemmGflops             the best of bench's GEMM repeats (its {@code gemm_gflops} is their median)
     * @param teacherAtGemmRateSeconds   the teacher's forward passes over the epoch's views at that float GEMM
     *                                   rate: no engine here computes them in less
     * @param lowestReachableRatio       the lowest ratio any engine could reach on this machine, however it
     *                                   overlapped the teacher with the student: the teacher's time at the GEMM
     *                                   rate over the longer labels epoch, and never below 1
     */
    public record LiveTeacherOverhead(String model, String teacher, String teacherEngine, String augmentation,
            int examples, double serialLiveSecondsPerEpoch, double serialLabelsSecondsPerEpoch, double serialRatio,
            int prefetchThreads, double prefetchedLiveSecondsPerEpoch, double prefetchedLabelsSecondsPerEpoch,
            double prefetchedRatio,
            long teacherMultiplyAddsPerView, double bestGemmGflops, double teacherAtGemmRateSeconds,
            double lowestReachableRatio) {
    }
}
