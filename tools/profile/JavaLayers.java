import dev.distill.models.network.*;
import dev.distill.models.spec.*;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import java.util.*;

/**
 * The protocol teacher (Fashion-MNIST, Adam, one thread, batches of 64 as each part of a split batch of 128 is)
 * trained by DL4J with Adam in Java and lean dense layers ("dl4j") and with the first convolution in Java too
 * ("conv1", FewChannelConvolution). The two take turns in one process (order reversed every turn), 6 steps a
 * turn; prints the median (min, max) milliseconds a step over the turns:
 *
 *   OMP_NUM_THREADS=1 java -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 \
 *     -cp "distill-runner/target/distill-runner-0.1.0-SNAPSHOT.jar:distill-runner/target/lib/*" \
 *     tools/profile/JavaLayers.java [turns]
 */
public class JavaLayers {
  public static void main(String[] args) {
    int turns = args.length > 0 ? Integer.parseInt(args[0]) : 20;
    List<LayerSpec> teacher = List.of(
        new LayerSpec.Conv2d(32, 3, 1, LayerSpec.Padding.SAME, Activation.RELU, true),
        new LayerSpec.Pool(LayerSpec.PoolType.MAX, 2, 2),
        new LayerSpec.Conv2d(64, 3, 1, LayerSpec.Padding.SAME, Activation.RELU, true),
        new LayerSpec.Pool(LayerSpec.PoolType.MAX, 2, 2),
        new LayerSpec.Dense(256, Activation.RELU, true), new LayerSpec.Output(10));
    Map<String, Network> nets = new LinkedHashMap<>();
    for (String name : List.of("dl4j", "conv1")) {
      Network net = Networks.build(new ModelSpec(teacher), InputShape.image(28, 28, 1),
          new org.nd4j.linalg.learning.config.Adam(1e-3), 0, 1, new org.nd4j.linalg.lossfunctions.impl.LossMCXENT());
      JavaAdamUpdater.install(net);
      LeanDenseBackprop.install(net);
      if (name.contains("conv1")) FewChannelConvolution.install(net);
      nets.put(name, net);
    }
    dev.distill.core.data.LabeledData fm = dev.distill.runner.data.Datasets.fashionMnistTrain(dev.distill.runner.data.Datasets.FASHION_MNIST_DIR);
    INDArray oneHot = fm.oneHot();
    List<DataSet> batches = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      batches.add(new DataSet(fm.features().get(NDArrayIndex.interval(i * 64, (i + 1) * 64)).dup(),
          oneHot.get(NDArrayIndex.interval(i * 64, (i + 1) * 64)).dup()));
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
      System.out.printf("%-11s %.1f ms/step (%.1f-%.1f)%n", e.getKey(), v.get(v.size() / 2), v.get(0), v.get(v.size() - 1));
    }
  }
}
