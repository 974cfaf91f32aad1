package dev.distill.models.network;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.regularization.Regularization;

/**
 * DL4J's updater block without the regularization passes that apply nothing: before and after its updater,
 * DL4J's block cuts a parameter and a gradient view out of the network's arrays for every variable and then
 * finds that the variable has no regularization at that step. This block runs a pass only when one of its
 * variables has a regularization at that step (L1 and L2 before the updater, weight decay after it), as
 * DL4J's, and skips the rest, which would change no array: the same bits.
 *
 * <p>Why: for the 784-32-10 student without weight decay those views were 16 array objects a step, each with a
 * shape buffer made in native memory: its steps took 4-15% longer with DL4J's blocks
 * ({@code tools/profile/UpdaterBlocks.java}).
 */
public final class LeanUpdaterBlock extends UpdaterBlock {

    /** The steps at which at least one of the block's variables has a regularization. */
    private final Set<Regularization.ApplyStep> regularizedSteps;
    /** Passes skipped because no variable had a regularization at that step. */
    private long skippedPasses;

    private LeanUpdaterBlock(UpdaterBlock block) {
        super(block.getParamOffsetStart(), block.getParamOffsetEnd(), block.getUpdaterViewOffsetStart(),
                block.getUpdaterViewOffsetEnd(), block.getLayersAndVariablesInBlock());
        setUpdaterView(block.getUpdaterView());
        setGradientView(block.getGradientView());
        setUpdaterViewRequiresInitialization(block.isUpdaterViewRequiresInitialization());
        setGradientUpdater(block.getGradientUpdater());   // made on the block's state view first, as DL4J would
        regularizedSteps = EnumSet.noneOf(Regularization.ApplyStep.class);
        for (ParamState variable : block.getLayersAndVariablesInBlock()) {
            List<Regularization> regularizations =
                    variable.getLayer().getConfig().getRegularizationByParam(variable.getParamName());
            if (regularizations != null) {
                regularizations.forEach(r -> regularizedSteps.add(r.applyStep()));
            }
        }
    }

    /**
     * Puts a block computing as described above in place of each of DL4J's blocks in {@code net}'s updater
     * (creating the updater and its blocks' updaters if they are not yet), over the same views and the same
     * updater objects. Calling it again changes nothing.
     *
     * @return the number of blocks of the updater that are now lean
     */
    public static int install(Network net) {
        List<UpdaterBlock> list = Networks.updaterBlocks(net);
        int lean = 0;
        for (int i = 0; i < list.size(); i++) {
            UpdaterBlock block = list.get(i);
            if (block.getClass() == UpdaterBlock.class) {
                list.set(i, new LeanUpdaterBlock(block));
            }
            lean += list.get(i) instanceof LeanUpdaterBlock ? 1 : 0;
        }
        return lean;
    }

    /** How many regularization passes were skipped. */
    long skippedPasses() {
        return skippedPasses;
    }

    @Override
    protected void applyRegularizationAllVariables(Regularization.ApplyStep applyStep, int iteration, int epoch,
            boolean externalGradient, INDArray fullNetworkGradientView, INDArray fullNetworkParamsArray) {
        if (!regularizedSteps.contains(applyStep)) {
            skippedPasses++;
            return;
        }
        super.applyRegularizationAllVariables(applyStep, iteration, epoch, externalGradient, fullNetworkGradientView,
                fullNetworkParamsArray);
    }
}
