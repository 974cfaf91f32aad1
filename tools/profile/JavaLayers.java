import dev.distill.models.network.*;
import dev.distill.models.spec.*;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.indexing.NDArrayIndex;
import java.util.*;

/**
 * A protocol network (Fashion-MNIST, Adam, one thread) trained by DL4J with Adam in Java and lean dense layers
 * ("dl4j") and with one of the layers computed in Java as well, the two in turns in one process (order reversed
 * every turn); prints the median (min, max) milliseconds a step over the turns.
 *   teacher: batches of 64 (each part of a split batch of 128), 6 steps a turn; "conv1" adds FewChannelConvolution
 *   student: 784-32-10, batches of 128, 40 steps a turn; "output" adds OnePassOutputLayer
 *   student-kd: the same with the distillation loss (T 4, soft weight 0.9) on random teacher logits
 *
 *   OMP_NUM_THREADS=1 java -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 \
 *     -cp "distill-runner/target/distill-runner-0.1.0-SNAPSHOT.jar:distill-runner/target/lib/*" \
 *     tools/profile/JavaLayers.java teacher|student|student-kd [turns]
 */
public class JavaLayers {
  public static void main(String[] args) {
    boolean teacherNet = args.length == 0 || args[0].equals("teacher");
    boolean kd = args.length > 0 && args[0].equals("student-kd");
    int turns = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    List<LayerSpec> layers = teacherNet ? List.of(
        new LayerSpec.Conv2d(32, 3, 1, LayerSpec.Padding.SAME, Activation.RELU, true),
        new LayerSpec.Pool(LayerSpec.PoolType.MAX, 2, 2),
        new LayerSpec.Conv2d(64, 3, 1, LayerSpec.Padding.SAME, Activation.RELU, true),
        new LayerSpec.Pool(LayerSpec.PoolType.MAX, 2, 2),
        new LayerSpec.Dense(256, Activation.RELU, true), new LayerSpec.Output(10))
        : List.of(new LayerSpec.Dense(32, Activation.RELU, true), new LayerSpec.Output(10));
    String java = teacherNet ? "conv1" : "output";
    int batch = teacherNet ? 64 : 128;
    int steps = teacherNet ? 6 : 40;
    Map<String, Network> nets = new LinkedHashMap<>();
    for (String name : List.of("dl4j", java)) {
      Network net = Networks.build(new ModelSpec(layers), InputShape.image(28, 28, 1),
          new org.nd4j.linalg.learning.config.Adam(1e-3), 0, 1, kd ? new dev.distill.core.loss.DistillationLoss(4, 0.9, 0.1)
          : new org.nd4j.linalg.lossfunctions.impl.LossMCXENT());
      JavaAdamUpdater.install(net);
      LeanDenseBackprop.install(net);
      if (name.equals("conv1")) FewChannelConvolution.install(net);
      if (name.equals("output")) OnePassOutputLayer.install(net);
      nets.put(name, net);
    }
    dev.distill.core.data.LabeledData fm = dev.distill.runner.data.Datasets.fashionMnistTrain(dev.distill.runner.data.Datasets.FASHION_MNIST_DIR);
    INDArray oneHot = fm.oneHot();
    List<DataSet> batches = new ArrayList<>();
    org.nd4j.linalg.factory.Nd4j.getRandom().setSeed(1);
    for (int i = 0; i < steps; i++) {
      INDArray y = oneHot.get(NDArrayIndex.interval(i * batch, (i + 1) * batch)).dup();
      if (kd) y = dev.distill.core.loss.DistillationLoss.labels(y, org.nd4j.linalg.factory.Nd4j.randn(org.nd4j.linalg.api.buffer.DataType.FLOAT, batch, 10).muli(3));
      batches.add(new DataSet(fm.features().get(NDArrayIndex.interval(i * batch, (i + 1) * batch)).dup(), y));
    }
    Map<String, List<Double>> ms = new LinkedHashMap<>();
    List<String> names = new ArrayList<>(nets.keySet());
    for (int turn = -2; turn < turns; turn++) {
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
      System.out.printf("%-7s %.3f ms/step (%.3f-%.3f), %.0f samples/s at the median%n", e.getKey(), v.get(v.size() / 2),
          v.get(0), v.get(v.size() - 1), batch / v.get(v.size() / 2) * 1e3);
    }
  }
}
