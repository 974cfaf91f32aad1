package dev.distill.runner.stages;

import dev.distill.core.chain.LinkTrainer;
import dev.distill.core.modelfile.ModelReader;
import dev.distill.core.train.TrainingListener;
import dev.distill.models.network.Network;
import dev.distill.models.spec.ModelCost;
import dev.distill.models.spec.ModelSpec;
import dev.distill.runner.config.ExperimentConfig;
import dev.distill.runner.config.ModelConfig;
import dev.distill.runner.config.StageConfig;
import dev.distill.runner.pipeline.ExperimentData;
import dev.distill.core.chain.Plan;
import dev.distill.runner.pipeline.RunDirectory;
import dev.distill.runner.report.RunSummary.ModelEntry;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Runs the config's stages on the chains' final students (the first seed's model, the one shipped
 * in {@code models/<id>.zip}), in order: a later stage takes the earlier one's output for the same
 * student, except that a quantization stage's packed file is an end point (see {@link QuantizeStage}).
 * Each stage's model is saved ({@code models/<input id>-pruned.sparse}, {@code models/<input
 * id>-lowrank.zip} by {@link LowRankStage}, {@code models/<input id>-int8.packed} ...), its test
 * predictions beside the others', and it becomes a summary entry with role {@code stage}.
 */
public final class StageRunner {

    /** Passes over the test set per timing; the median is kept. */
    static final int SPEED_REPEATS = 7;
    /** Examples per timing pass, the test set repeated to reach it (small test sets time badly). */
    private static final int SPEED_EXAMPLES = 8192;

    private final ExperimentConfig config;
    private final RunDirectory run;
    private final StageContext context;
    private final PruneStage prune;
    private final LowRankStage lowRank;
    private final QuantizeStage quantize;
    private final GraphQuantizeStage graphQuantize;

    /** A model a stage starts from: its id in the run, network and architecture. */
    record Current(String id, MultiLayerNetwork net, ModelSpec spec, long fileBytes) {
    }

    /**
     * @param links         the run's link trainer: what a distilled node learns from, with which loss
     * @param progress      a console progress listener for a label
     */
    public StageRunner(ExperimentConfig config, ExperimentData data, RunDirectory run, PrintStream out,
            LinkTrainer links, Function<String, TrainingListener> progress) {
        this.config = config;
        this.run = run;
        this.context = new StageContext(config, data, run, out, links, progress);
        this.prune = new PruneStage(context);
        this.lowRank = new LowRankStage(context);
        this.quantize = new QuantizeStage(context);
        this.graphQuantize = new GraphQuantizeStage(context);
    }

    /**
     * @param students the chains' final students; their shipped files ({@code models/<id>.zip}) are read,
     *                 so a resumed run whose students finished earlier prunes the same models
     */
    public List<ModelEntry> run(List<Plan.Node> students) {
        List<ModelEntry> entries = new ArrayList<>();
        Map<String, Current> current = new LinkedHashMap<>();
        // graph students: config parsing lets only post-training quantization (and export) reach them
        Map<String, GraphQuantizeStage.Input> graphs = new LinkedHashMap<>();
        for (Plan.Node node : students) {
            ModelConfig.Declared declared = (ModelConfig.Declared) config.models().get(node.model());
            Path file = run.model(node.id() + ".zip");
            if (!declared.sequential()) {
                graphs.put(node.id(), new GraphQuantizeStage.Input(node.id(), (Network.Graph) ModelReader.network(file),
                        declared.cost(), size(file)));
                continue;
            }
            MultiLayerNetwork net = ModelReader.sequential(file);
            current.put(node.id(), new Current(node.id(), net, declared.spec(), size(file)));
        }
        for (StageConfig stage : config.stages()) {
            if (stage instanceof StageConfig.Export) {
                // runs after every other stage, on their outputs too (see ExportStage)
                continue;
            }
            for (Plan.Node node : students) {
                if (!stage.models().isEmpty() && !stage.models().contains(node.model())) {
                    continue;
                }
                if (graphs.containsKey(node.id())) {
                    entries.add(graphQuantize.run((StageConfig.Quantize) stage, node, graphs.get(node.id())));
                    continue;
                }
                current.put(node.id(), dispatch(stage, node, current.get(node.id()), entries));
            }
        }
        return entries;
    }

    /** One stage on one student: the model the next stage starts from. */
    private Current dispatch(StageConfig stage, Plan.Node node, Current input, List<ModelEntry> entries) {
        if (stage instanceof StageConfig.Prune p) {
            return prune.run(p, node, input, entries);
        }
        if (stage instanceof StageConfig.Quantize q) {
            return quantize.run(q, node, input, entries);
        }
        return lowRank.run((StageConfig.LowRank) stage, node, input, entries);
    }

    /** The layer name ({@code dense_0}) of a parameter key ({@code 0_W}). */
    static String layerName(ModelSpec spec, String key) {
        int index = Integer.parseInt(key.substring(0, key.indexOf('_')));
        return spec.layers().get(index).type() + "_" + index;
    }

    static INDArray repeated(INDArray features) {
        int times = (int) Math.max(1, (SPEED_EXAMPLES + features.rows() - 1) / features.rows());
        INDArray[] copies = new INDArray[times];
        java.util.Arrays.fill(copies, features);
        return org.nd4j.linalg.factory.Nd4j.vstack(copies);
    }

    static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
