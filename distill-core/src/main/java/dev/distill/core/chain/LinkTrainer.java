package dev.distill.core.chain;

import dev.distill.core.data.LabeledData;
import dev.distill.core.loss.DistillationLoss;
import dev.distill.core.train.Trainer;
import dev.distill.core.train.TrainingResult;
import dev.distill.core.train.TrainingSpec;
import dev.distill.core.train.TrainingState;
import dev.distill.models.network.Network;
import dev.distill.models.network.Networks;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.NetworkSpec;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * Trains one node of a {@link Plan}: a distilled link against its teacher's cached logits (or, with
 * augmentation, the teacher's logits on each batch's views), a teacher or baseline on labels alone.
 * Where the network comes from (new, or restored from a checkpoint) and what listens is the caller's.
 */
public final class LinkTrainer {

    private final InputShape input;
    private final LabeledData train;
    private final LabeledData validation;
    private final TeacherLogitsCache teachers;

    /**
     * @param validation picks each training's best epoch (may be empty: then its last epoch is kept)
     * @param teachers   the logits of every node that teaches another, on {@code train}'s inputs
     */
    public LinkTrainer(InputShape input, LabeledData train, LabeledData validation, TeacherLogitsCache teachers) {
        this.input = input;
        this.train = train;
        this.validation = validation;
        this.teachers = teachers;
    }

    /** A new network of {@code network} for the node, with its {@link #loss}. */
    public Network build(Plan.Node node, NetworkSpec network, TrainingSpec training, long seed) {
        return Networks.build(network, input, training.updater(), training.weightDecay(), seed, loss(node, true));
    }

    /**
     * The loss a node trains with: its link's distillation loss when it is distilled and {@code fromTeacher}
     * (a compression stage may fine-tune a distilled student on labels alone), else cross-entropy on the labels.
     */
    public static ILossFunction loss(Plan.Node node, boolean fromTeacher) {
        return fromTeacher && node.distilled() ? node.distillation().loss() : new LossMCXENT();
    }

    /**
     * What the node trains towards on the training inputs, the pair of its {@link #loss}: the labels packed with
     * its teachers' cached logits ({@link DistillationLoss#labels}), or the one-hot labels alone.
     */
    public INDArray targets(Plan.Node node, boolean fromTeacher) {
        return fromTeacher && node.distilled() ? DistillationLoss.labels(train.oneHot(), teachers.logits(node))
                : train.oneHot();
    }

    /**
     * Trains {@code net} (built by {@link #build} from {@code network}, or restored from the checkpoint
     * {@code resumed} came from; null: from scratch) with {@code trainer}, which carries the spec, listeners and
     * checkpoints; keeps the best validation epoch's parameters. A link with a {@link Hint} first trains the
     * student's guided layers on the teacher's hint (not again when resumed: the checkpoint holds them).
     */
    public TrainingResult fit(Plan.Node node, NetworkSpec network, Network net, Trainer trainer, long seed,
            TrainingState resumed) {
        Hint hint = node.distilled() ? node.distillation().hint() : null;
        if (hint != null && !(network instanceof dev.distill.models.spec.ModelSpec
                && net instanceof Network.Sequential)) {
            throw new dev.distill.core.DistillException("hint: the student of " + node.id() + " is a graph; a hint "
                    + "names layers of sequential networks");
        }
        if (hint != null && hint.stage() == Hint.Stage.JOINT) {
            return fitJoint(node, (dev.distill.models.spec.ModelSpec) network, (Network.Sequential) net, hint, trainer,
                    seed, resumed);
        }
        if (hint != null && resumed == null) {
            HintTraining.pretrain(net, (dev.distill.models.spec.ModelSpec) network, input, hint, train.features(),
                    teachers.features(node.parentId(), hint.teacherLayer()), trainer.spec(), seed);
        }
        return fitLink(node, net, trainer, seed, resumed);
    }

    /**
     * The link's training with a joint hint ({@link JointHint}) listening to every step; its regressor is the
     * trainer's companion, in every checkpoint and put back on a resume, so a resumed training ends as a straight
     * one does.
     */
    private TrainingResult fitJoint(Plan.Node node, dev.distill.models.spec.ModelSpec spec, Network.Sequential net,
            Hint hint, Trainer trainer, long seed, TrainingState resumed) {
        String teacher = node.parentId();
        INDArray first = train.features().get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 1),
                org.nd4j.linalg.indexing.NDArrayIndex.all());
        long width = teachers.features(teacher, hint.teacherLayer(), first).columns();
        org.deeplearning4j.nn.multilayer.MultiLayerNetwork regression = HintTraining.regression(net.net(), spec, input,
                hint, train.features(), width, trainer.spec(), seed);
        java.util.List<org.deeplearning4j.optimize.api.TrainingListener> before =
                new java.util.ArrayList<>(net.net().getListeners());
        net.net().addListeners(new JointHint(regression, hint, x -> teachers.features(teacher, hint.teacherLayer(), x)));
        try {
            return fitLink(node, net, trainer.withCompanion(JointHint.REGRESSOR, Network.of(regression)), seed,
                    resumed);
        } finally {
            net.net().setListeners(before);
        }
    }

    private TrainingResult fitLink(Plan.Node node, Network net, Trainer trainer, long seed, TrainingState resumed) {
        INDArray targets;
        if (trainer.spec().augment().active()) {
            // every view is new: the teacher labels each batch as the student sees it, nothing is cached
            trainer = trainer.withAugmentation(input, node.distilled() ? teachers.live(node) : null);
            targets = train.oneHot();
        } else {
            targets = targets(node, true);
        }
        return trainer.fit(net, train.features(), targets, validation, seed, resumed);
    }
}
