package dev.distill.runner.stages;

import dev.distill.core.chain.LinkTrainer;
import dev.distill.core.train.FineTuning;
import dev.distill.core.train.Optimizer;
import dev.distill.core.train.TrainingListener;
import dev.distill.core.train.TrainingSpec;
import dev.distill.models.network.NetworkFactory;
import dev.distill.models.spec.ModelSpec;
import dev.distill.runner.config.ExperimentConfig;
import dev.distill.runner.config.ModelConfig;
import dev.distill.runner.pipeline.ExperimentData;
import dev.distill.core.chain.Plan;
import dev.distill.runner.pipeline.RunDirectory;
import dev.distill.runner.report.RunSummary.Distillation;
import dev.distill.runner.report.RunSummary.LayerEntry;
import dev.distill.runner.report.RunSummary.ModelEntry;
import dev.distill.runner.report.RunSummary.StageResult;
import dev.distill.runner.report.RunSummary.Training;
import java.io.PrintStream;
import java.util.List;
import java.util.function.Function;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.ILossFunction;

/**
 * What every stage works with: the config, the data, the run directory, the console, the run's link trainer
 * (whose teachers' cached logits and losses the stages fine-tune with) and a console progress listener by label.
 */
record StageContext(ExperimentConfig config, ExperimentData data, RunDirectory run, PrintStream out,
        LinkTrainer links, Function<String, TrainingListener> progress) {

    /** How a stage fine-tunes, and whether with the distillation loss. */
    record Tuning(boolean distill, FineTuning fineTuning) {

        /** How the console names the loss. */
        String describe(Plan.Node node) {
            return distill ? "distillation from " + node.parentId() : "hard labels";
        }
    }

    /**
     * The student's own training settings with the stage's learning rate, and either its link's
     * distillation loss with its teacher's cached logits or plain cross-entropy on the labels (also for
     * a student that was not distilled), both as the link trainer pairs them; progress printed under {@code id}.
     *
     * @param learningRate the stage's, or null for the student's
     */
    Tuning tuning(Plan.Node node, Double learningRate, boolean distillLoss, String id) {
        return tuning(node, learningRate, distillLoss, id, null);
    }

    /** The same with another optimizer than the student's (null: the student's). */
    Tuning tuning(Plan.Node node, Double learningRate, boolean distillLoss, String id, Optimizer optimizer) {
        TrainingSpec training = ((ModelConfig.Declared) config.models().get(node.model())).training();
        TrainingSpec spec = new TrainingSpec(1, training.batchSize(), optimizer != null ? optimizer : training.optimizer(),
                learningRate != null ? learningRate : training.learningRate(), training.schedule(),
                training.weightDecay());
        boolean distill = distillLoss && node.distilled();
        ILossFunction loss = LinkTrainer.loss(node, distill);
        INDArray targets = links.targets(node, distill);
        long seed = config.seeds().get(0);
        Function<ModelSpec, MultiLayerNetwork> build = s -> NetworkFactory.build(s, config.data().input(),
                spec.updater(), spec.weightDecay(), seed, loss);
        return new Tuning(distill, new FineTuning(build, spec, data.train().features(), targets, data.validation(),
                seed, List.of(progress.apply(id))));
    }

    /**
     * A stage's model entry ({@code role} "stage"): distilled from the student's teacher with its link's
     * settings when the stage fine-tuned with the distillation loss.
     */
    static ModelEntry entry(String id, Plan.Node node, boolean distilled, double accuracy, long params,
            long fileBytes, long multiplyAdds, Training training, String file, long nonzero, List<LayerEntry> layers,
            StageResult stage) {
        return ModelEntry.of(id, node.model(), "stage", accuracy, params, fileBytes, multiplyAdds, file, nonzero,
                        layers)
                .withDistillation(distilled ? Distillation.of(node.parentId(), node.distillation()) : Distillation.NONE)
                .withTraining(training).withStageResult(stage);
    }
}
