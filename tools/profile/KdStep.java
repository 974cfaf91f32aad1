import dev.distill.core.loss.DistillationLoss;
import dev.distill.models.network.*;
import dev.distill.models.spec.*;
import java.util.*;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * What distillation on cached logits adds to a training step, measured finely: the 784-32-10 student sped up as the
 * Trainer does it, one network with the distillation loss (T 4, labels and Gaussian teacher logits) and one with
 * softmax cross-entropy, 20 pre-built Fashion-MNIST batches each, in blocks of 20 steps in turns (order reversed every
 * block, 50 blocks of warm-up); prints microseconds a step of each and the median of the per-block differences:
 *
 *   OMP_NUM_THREADS=1 java -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 \
 *     -cp "distill-runner/target/distill-runner-0.1.0-SNAPSHOT.jar:distill-runner/target/lib/*" \
 *     tools/profile/KdStep.java [blocks]
 */
public class KdStep {
  public static void main(String[] a) {
    int blocks = a.length > 0 ? Integer.parseInt(a[0]) : 200;
    var fm = dev.distill.runner.data.Datasets.fashionMnistTrain(dev.distill.runner.data.Datasets.FASHION_MNIST_DIR);
    Nd4j.getRandom().setSeed(7);
    List<DataSet> kd = new ArrayList<>(), labels = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      INDArray x = fm.features().get(NDArrayIndex.interval(i * 128, (i + 1) * 128), NDArrayIndex.all()).dup();
      INDArray y = fm.oneHot().get(NDArrayIndex.interval(i * 128, (i + 1) * 128), NDArrayIndex.all()).dup();
      labels.add(new DataSet(x, y));
      kd.add(new DataSet(x, DistillationLoss.labels(y, Nd4j.randn(DataType.FLOAT, 128, 10).muli(3))));
    }
    Map<String, Network> nets = new LinkedHashMap<>();
    Map<String, List<DataSet>> data = Map.of("kd", kd, "labels", labels);
    for (String m : List.of("kd", "labels")) {
      ILossFunction loss = m.equals("kd") ? new DistillationLoss(4, 0.9, 0.1) : new LossMCXENT();
      Network net = Networks.build(new ModelSpec(List.of(new LayerSpec.Dense(32, Activation.RELU, true), new LayerSpec.Output(10))),
          InputShape.image(28, 28, 1), new org.nd4j.linalg.learning.config.Adam(1e-3), 0, 1, loss);
      Networks.speedUpTraining(net);
      nets.put(m, net);
    }
    Map<String, Long> ns = new HashMap<>();
    List<Double> diffs = new ArrayList<>();
    for (int b = -50; b < blocks; b++) {
      List<String> order = new ArrayList<>(nets.keySet()); if ((b & 1) != 0) Collections.reverse(order);
      long[] t = new long[2];
      for (String m : order) {
        long t0 = System.nanoTime();
        for (DataSet d : data.get(m)) nets.get(m).fit(d);
        long dt = System.nanoTime() - t0;
        if (b >= 0) ns.merge(m, dt, Long::sum);
        t[m.equals("kd") ? 0 : 1] = dt;
      }
      if (b >= 0) diffs.add((t[0] - t[1]) / 20e3);
    }
    Collections.sort(diffs);
    double steps = blocks * 20.0;
    System.out.printf("kd %.1f us/step, labels %.1f us/step, mean ratio %.3f, median per-block difference %.1f us%n",
        ns.get("kd") / steps / 1e3, ns.get("labels") / steps / 1e3, (double) ns.get("kd") / ns.get("labels"), diffs.get(diffs.size() / 2));
  }
}
