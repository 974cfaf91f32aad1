package dev.distill.core.chain;

import java.util.Map;
import java.util.function.UnaryOperator;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * The joint hint stage ({@link Hint.Stage#JOINT}): on every step of the student's own training, after DL4J has
 * computed the gradient of the link's loss and before its updater uses it, adds {@code weight ×} the gradient of
 * the hint loss with respect to the guided layers' parameters, so that the student descends
 * {@code link loss + weight · ½‖u − r‖²}. The hint {@code u} is the teacher's (pooled) layer output on the very
 * batch, computed by {@code teacherFeatures}; the regressor {@code r} lives in a second network holding a copy of
 * the guided layers, refreshed from the student before every step, and takes its own step on the hint loss.
 */
final class JointHint extends BaseTrainingListener {

    /**
     * The regressor's name in a checkpoint ({@link dev.distill.core.train.Trainer#withCompanion}): it is all the
     * state this listener carries from one step to the next (its parameters, optimizer state and counters; the
     * guided layers' copies are refreshed from the student before every step, and dropout draws from ND4J's
     * generator, which the checkpoint keeps).
     */
    static final String REGRESSOR = "joint-hint-regressor";

    private final MultiLayerNetwork regression;
    private final int guided;
    private final double weight;
    private final UnaryOperator<INDArray> teacherFeatures;

    JointHint(MultiLayerNetwork regression, Hint hint, UnaryOperator<INDArray> teacherFeatures) {
        this.regression = regression;
        this.guided = hint.studentLayer();
        this.weight = hint.weight();
        this.teacherFeatures = teacherFeatures;
    }

    @Override
    public void onGradientCalculation(Model model) {
        MultiLayerNetwork student = (MultiLayerNetwork) model;
        INDArray x = student.getInput();
        INDArray u = teacherFeatures.apply(x);
        HintTraining.copyLayers(student, regression, guided);
        regression.setInput(x);
        regression.setLabels(u);
        regression.computeGradientAndScore();
        Gradient hint = regression.gradient();
        Gradient link = student.gradient();
        for (Map.Entry<String, INDArray> e : hint.gradientForVariable().entrySet()) {
            int layer = Integer.parseInt(e.getKey().substring(0, e.getKey().indexOf('_')));
            if (layer <= guided) {
                link.getGradientFor(e.getKey()).addi(e.getValue().mul(weight));
            }
        }
        // the regressor's own step (the guided layers' copies it also moves are refreshed before the next one)
        regression.fit(new DataSet(x.dup(), u));
    }
}
