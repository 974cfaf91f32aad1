import dev.distill.models.network.LeanUpdaterBlock;
import dev.distill.models.network.Network;
import dev.distill.models.network.Networks;
import dev.distill.models.spec.Activation;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.LayerSpec;
import dev.distill.models.spec.ModelSpec;
import java.util.*;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The 784-32-10 student (Fashion-MNIST, Adam, batch 128, one thread) sped up for training as the Trainer does it,
 * with DL4J's updater blocks ("dl4j-blocks") and with LeanUpdaterBlock ("lean-blocks"), the two in turns in one
 * process (order reversed every turn), 100 steps a turn; prints the median (min, max) milliseconds a step and
 * whether the two trained to the same bits.
 *
 *   OMP_NUM_THREADS=1 java -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 \
 *     -cp "distill-runner/target/distill-runner-0.1.0-SNAPSHOT.jar:distill-runner/target/lib/*" \
 *     tools/profile/UpdaterBlocks.java [turns]
 */
public class UpdaterBlocks {
  public static void main(String[] args) {
    int turns = args.length > 0 ? Integer.parseInt(args[0]) : 30;
    dev.distill.core.data.LabeledData fm = dev.distill.runner.data.Datasets.fashionMnistTrain(dev.distill.runner.data.Datasets.FASHION_MNIST_DIR);
    INDArray oneHot = fm.oneHot();
    List<DataSet> batches = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      batches.add(new DataSet(fm.features().get(NDArrayIndex.interval(i * 128, (i + 1) * 128)).dup(),
          oneHot.get(NDArrayIndex.interval(i * 128, (i + 1) * 128)).dup()));
    }
    Map<String, Network> nets = new LinkedHashMap<>();
    for (String name : List.of("dl4j-blocks", "lean-blocks")) {
      Network net = Networks.build(new ModelSpec(List.of(new LayerSpec.Dense(32, Activation.RELU, true), new LayerSpec.Output(10))),
          InputShape.image(28, 28, 1), new org.nd4j.linalg.learning.config.Adam(1e-3), 0, 1, new org.nd4j.linalg.lossfunctions.impl.LossMCXENT());
      Networks.speedUpTraining(net);   // installs the lean blocks: put DL4J's back for the other side
      if (name.equals("dl4j-blocks")) {
        var blocks = ((org.deeplearning4j.nn.updater.BaseMultiLayerUpdater<?>) ((Network.Sequential) net).net().getUpdater()).getUpdaterBlocks();
        for (int i = 0; i < blocks.size(); i++) {
          var b = blocks.get(i);
          var own = new org.deeplearning4j.nn.updater.UpdaterBlock(b.getParamOffsetStart(), b.getParamOffsetEnd(),
              b.getUpdaterViewOffsetStart(), b.getUpdaterViewOffsetEnd(), b.getLayersAndVariablesInBlock());
          own.setUpdaterView(b.getUpdaterView()); own.setGradientView(b.getGradientView());
          own.setUpdaterViewRequiresInitialization(b.isUpdaterViewRequiresInitialization()); own.setGradientUpdater(b.getGradientUpdater());
          blocks.set(i, own);
        }
      } else if (LeanUpdaterBlock.install(net) == 0) {
        throw new IllegalStateException("no lean block");
      }
      nets.put(name, net);
    }
    Map<String, List<Double>> ms = new LinkedHashMap<>();
    List<String> names = new ArrayList<>(nets.keySet());
    for (int turn = -3; turn < turns; turn++) {
      List<String> order = new ArrayList<>(names);
      if ((turn & 1) != 0) Collections.reverse(order);
      for (String name : order) {
        long t = System.nanoTime();
        for (DataSet b : batches) nets.get(name).fit(b);
        if (turn >= 0) ms.computeIfAbsent(name, x -> new ArrayList<>()).add((System.nanoTime() - t) / 1e6 / batches.size());
      }
    }
    for (var e : ms.entrySet()) {
      List<Double> v = new ArrayList<>(e.getValue());
      Collections.sort(v);
      System.out.printf("%-11s %.3f ms/step (%.3f-%.3f)%n", e.getKey(), v.get(v.size() / 2), v.get(0), v.get(v.size() - 1));
    }
    System.out.println("same bits: " + Arrays.equals(nets.get("dl4j-blocks").params().toFloatVector(), nets.get("lean-blocks").params().toFloatVector()));
  }
}
