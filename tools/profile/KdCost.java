import dev.distill.core.loss.DistillationLoss;
import dev.distill.core.train.Trainer;
import dev.distill.core.train.TrainingSpec;
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
 * What distillation on cached logits adds to the 784-32-10 student's training (Fashion-MNIST, Adam, batch 128): the
 * distillation loss (T 4; labels and Gaussian teacher logits) against softmax cross-entropy.
 * "steps": the network sped up as the Trainer does it, 20 pre-built batches each, in blocks of 20 steps in turns
 * (order reversed every block, 50 blocks of warm-up); microseconds a step of each, the median per-block difference.
 * "epochs": whole Trainer epochs over the training set, a fresh network each, "both" in turns (or "kd" / "labels"
 * alone), a GC before each; median seconds an epoch and the median per-turn ratio. JVM options (-Xmn...) go on the
 * java command line, before the file:
 *
 *   OMP_NUM_THREADS=1 java -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 \
 *     -cp "distill-runner/target/distill-runner-0.1.0-SNAPSHOT.jar:distill-runner/target/lib/*" \
 *     tools/profile/KdCost.java steps [blocks] | epochs [both|kd|labels] [turns]
 */
public class KdCost {
  public static void main(String[] a) {
    if (a.length > 0 && a[0].equals("epochs")) {
      epochs(a);
    } else {
      steps(a);
    }
  }

  static void steps(String[] a) {
    int blocks = a.length > 1 ? Integer.parseInt(a[1]) : 200;
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

  static void epochs(String[] a) {
    String mode = a.length > 1 ? a[1] : "both";
    int turns = a.length > 2 ? Integer.parseInt(a[2]) : 10;
    var fm = dev.distill.runner.data.Datasets.fashionMnistTrain(dev.distill.runner.data.Datasets.FASHION_MNIST_DIR);
    INDArray x = fm.features(), y = fm.oneHot();
    Nd4j.getRandom().setSeed(7);
    INDArray wide = DistillationLoss.labels(y, Nd4j.randn(DataType.FLOAT, x.rows(), 10).muli(3));
    var empty = fm.subset(new int[0]);
    TrainingSpec spec = new TrainingSpec(1, 128, dev.distill.core.train.Optimizer.ADAM, 1e-3, new dev.distill.core.train.LearningRateSchedule.Constant(), 0);
    Trainer tr = new Trainer(spec, List.of());
    Map<String, List<Double>> s = new LinkedHashMap<>();
    for (int t = -2; t < turns; t++) {
      List<String> order = new ArrayList<>(mode.equals("both") ? List.of("kd", "labels") : List.of(mode));
      if ((t & 1) != 0) Collections.reverse(order);
      for (String m : order) {
        ILossFunction loss = m.equals("kd") ? new DistillationLoss(4, 0.9, 0.1) : new LossMCXENT();
        Network net = Networks.build(new ModelSpec(List.of(new LayerSpec.Dense(32, Activation.RELU, true), new LayerSpec.Output(10))),
            InputShape.image(28, 28, 1), new org.nd4j.linalg.learning.config.Adam(1e-3), 0, 1, loss);
        System.gc();
        long t0 = System.nanoTime();
        tr.fit(net, x, m.equals("kd") ? wide : y, empty, 0, null);
        double sec = (System.nanoTime() - t0) / 1e9;
        if (t >= 0) s.computeIfAbsent(m, k -> new ArrayList<>()).add(sec);
      }
    }
    s.forEach((k, v) -> { List<Double> c = new ArrayList<>(v); Collections.sort(c); System.out.printf("%s median %.3f s/epoch %s%n", k, c.get(c.size()/2), v); });
    if (s.size() == 2) { List<Double> k = s.get("kd"), l = s.get("labels"); List<Double> r = new ArrayList<>(); for (int i=0;i<k.size();i++) r.add(k.get(i)/l.get(i)); Collections.sort(r); System.out.printf("ratio per turn median %.3f %s%n", r.get(r.size()/2), r); }
  }
}
