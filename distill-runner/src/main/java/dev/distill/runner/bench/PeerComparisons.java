package dev.distill.runner.bench;

import dev.distill.core.DistillException;
import dev.distill.runner.report.Json;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Our figures beside a peer's, from the JSON that {@code ../shared/peer/speed.py} writes: keys
 * {@code <model>_train_samples_per_s}, {@code <model>_infer_samples_per_s} and
 * {@code <model>_latency_ms_p50}, where {@code <model>} is a model name of the benchmarked config
 * (the protocol's {@code teacher} and {@code student}). Ratios only mean something when the two ran
 * alternately on one machine in one sitting.
 */
public final class PeerComparisons {

    private PeerComparisons() {
    }

    /** The peer's figures, read before the benchmark starts so that a bad file fails at once. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> read(Path peerFile) {
        return Json.read(peerFile, Map.class, "peer figures");
    }

    public static BenchReport.PeerComparison compare(Path peerFile, Map<String, Object> peer, BenchReport ours) {
        List<BenchReport.PeerRatio> ratios = new ArrayList<>();
        for (BenchReport.ModelFigures m : ours.models()) {
            String p = m.model() + "_";
            speed(ratios, peer, p + "train_samples_per_s", m.model() + " training (DL4J plain fit)",
                    m.trainSamplesPerS());
            speed(ratios, peer, p + "infer_samples_per_s", m.model() + " inference, batch 256",
                    m.inferSamplesPerS());
            latency(ratios, peer, p + "latency_ms_p50", m.model() + " batch-1 latency p50, DL4J",
                    m.inferLatencyMsP50());
            if (m.runtimeLatencyMsP50() != null) {
                latency(ratios, peer, p + "latency_ms_p50", m.model() + " batch-1 latency p50, distill-runtime",
                        m.runtimeLatencyMsP50());
            }
        }
        for (BenchReport.TrainerFigures t : ours.trainerOverhead()) {
            speed(ratios, peer, t.model() + "_train_samples_per_s", t.model() + " training (distill's Trainer)",
                    t.trainerSamplesPerS());
        }
        if (ratios.isEmpty()) {
            throw new DistillException(peerFile + ": no figure matches a benchmarked model (expected keys like "
                    + ours.models().get(0).model() + "_train_samples_per_s, as ../shared/peer/speed.py writes)");
        }
        return new BenchReport.PeerComparison(peerFile.toString(), peer, ratios);
    }

    private static void speed(List<BenchReport.PeerRatio> out, Map<String, Object> peer, String key, String figure,
            double ours) {
        if (peer.get(key) instanceof Number theirs && theirs.doubleValue() > 0) {
            out.add(new BenchReport.PeerRatio(figure, ours, theirs.doubleValue(), ours / theirs.doubleValue()));
        }
    }

    private static void latency(List<BenchReport.PeerRatio> out, Map<String, Object> peer, String key, String figure,
            double ours) {
        if (peer.get(key) instanceof Number theirs && ours > 0) {
            out.add(new BenchReport.PeerRatio(figure, ours, theirs.doubleValue(), theirs.doubleValue() / ours));
        }
    }
}
