package dev.distill.runner.cli;

import dev.distill.runner.pipeline.ExperimentPlan;

import dev.distill.runner.config.ExperimentConfig;
import dev.distill.runner.config.ModelConfig;
import dev.distill.runner.pipeline.Dependencies;
import dev.distill.runner.pipeline.ExperimentData;
import dev.distill.core.chain.Plan;
import dev.distill.runner.pipeline.PretrainedModels;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "validate", mixinStandardHelpOptions = true, description = "Check a config, its data and model files without training; print the plan.")
final class ValidateCommand implements Callable<Integer> {

    @Parameters(paramLabel = "CONFIG", description = "The experiment's YAML file.")
    Path config;

    @Mixin
    ConfigOptions options;

    @Override
    public Integer call() {
        PrintStream out = DistillCli.Streams.out;
        ExperimentConfig experiment = options.load(config);
        java.util.Map<String, Dependencies.Status> dependencies = new java.util.HashMap<>();
        for (Dependencies.Status status : Dependencies.check(experiment)) {
            dependencies.put(status.modelName(), status);
        }
        ExperimentData data = ExperimentData.load(experiment.data(), experiment.seed());
        PretrainedModels.load(experiment, data);
        out.printf(Locale.ROOT, "%s: OK. %s, input %s, %d classes: %,d train / %,d validation / %,d test examples%n",
                config, data.name(), experiment.data().input(), experiment.data().classes(), data.train().size(),
                data.validation().size(), data.test().size());
        if (experiment.data().normalize() != dev.distill.runner.data.FeatureNormalizer.Method.NONE) {
            out.printf(Locale.ROOT, "  features normalized: %s, fitted on the %,d training examples%n",
                    experiment.data().normalize().label(), data.train().size());
        }
        if (data.scaleWarning() != null) {
            out.println("  " + data.scaleWarning());
        }
        for (Plan.Node node : ExperimentPlan.of(experiment).nodes()) {
            ModelConfig model = experiment.models().get(node.model());
            String what = model instanceof ModelConfig.Declared d
                    ? String.format(Locale.ROOT, "%,d params, %,d multiply-adds/example, %d epochs",
                            d.cost().params(), d.cost().multiplyAdds(), d.training().epochs())
                    : model instanceof ModelConfig.Auto auto ? String.format(Locale.ROOT, "automatic: %s, %d epochs; "
                            + "the one whose student validates best", String.join(", ", auto.candidates().stream()
                                    .map(c -> String.format(Locale.ROOT, "%s (%,d params)", c.of().label(),
                                            c.model().cost().params())).toList()), auto.training().epochs())
                    : dependencies.containsKey(node.model()) ? "loaded: " + dependencies.get(node.model()).describe()
                    : "loaded from " + ((ModelConfig.Pretrained) model).file()
                            + (((ModelConfig.Pretrained) model).onnx() != null ? " (ONNX, run by ONNX Runtime)" : "");
            out.printf(Locale.ROOT, "  %-30s %-9s %s%s%n", node.id(), node.role().label(), what,
                    node.distilled() ? String.format(Locale.ROOT, ", distilled from %s (%s)",
                            node.source(), node.distillation().describe()) : "");
            List<String> points = dev.distill.runner.pipeline.Sweep.labels(experiment, node);
            if (!points.isEmpty()) {
                out.printf(Locale.ROOT, "  %-30s sweep of %d point(s), chosen on validation: %s%n", "", points.size(),
                        String.join(", ", points));
            }
        }
        Plan plan = ExperimentPlan.of(experiment);
        long trainings = ExperimentPlan.trainings(plan, experiment);
        out.printf(Locale.ROOT, "  %,d training run(s) over %d seed(s)%s%n", trainings, experiment.seeds().size(),
                trainings > ExperimentPlan.CONFIRM_ABOVE ? " (more than " + ExperimentPlan.CONFIRM_ABOVE + ": distill run asks for --yes)" : "");
        for (dev.distill.runner.config.StageConfig stage : experiment.stages()) {
            out.printf(Locale.ROOT, "  stage %d: %s, on %s%n", stage.index(), stage.describe(),
                    stage.models().isEmpty() ? "every chain's final student" : String.join(", ", stage.models()));
        }
        return 0;
    }
}
