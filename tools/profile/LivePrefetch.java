import dev.distill.core.loss.DistillationLoss;
import dev.distill.core.train.*;
import dev.distill.models.network.*;
import dev.distill.models.spec.*;
import java.util.*;
import java.util.function.Supplier;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * Augmented epochs of a student (the 784-32-10 MLP, or "assistant": the protocol's CNN 16-32-64) on labels and
 * distilled from the protocol's teacher (untrained, compiled runtime) computing logits on every view: batches made
 * on the training thread ("teacher-serial"), on one prefetch thread ("teacher-1") and on two ("teacher-2"), and the
 * labels epochs with one and two; all in turns in one process, median seconds an epoch, and whether the distilled
 * students ended with the same parameters:
 *
 *   java -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 \
 *     -cp "distill-runner/target/distill-runner-0.1.0-SNAPSHOT.jar:distill-runner/target/lib/*" \
 *     tools/profile/LivePrefetch.java [student|assistant] [turns] [examples]
 */
public class LivePrefetch {
  static ModelSpec cnn(int a, int b, int d) { return new ModelSpec(List.of(
        new LayerSpec.Conv2d(a, 3, 1, LayerSpec.Padding.SAME, Activation.RELU, true), new LayerSpec.Pool(LayerSpec.PoolType.MAX, 2, 2),
        new LayerSpec.Conv2d(b, 3, 1, LayerSpec.Padding.SAME, Activation.RELU, true), new LayerSpec.Pool(LayerSpec.PoolType.MAX, 2, 2),
        new LayerSpec.Dense(d, Activation.RELU, true), new LayerSpec.Output(10))); }
  public static void main(String[] a) {
    String which = a.length > 0 ? a[0] : "student";
    int turns = a.length > 1 ? Integer.parseInt(a[1]) : 5;
    int n = a.length > 2 ? Integer.parseInt(a[2]) : 10000;
    var fm = dev.distill.runner.data.Datasets.fashionMnistTrain(dev.distill.runner.data.Datasets.FASHION_MNIST_DIR);
    INDArray x = fm.features().get(NDArrayIndex.interval(0, n), NDArrayIndex.all()).dup();
    INDArray y = fm.oneHot().get(NDArrayIndex.interval(0, n), NDArrayIndex.all()).dup();
    InputShape shape = InputShape.image(28, 28, 1);
    Network teacher = Networks.build(cnn(32, 64, 256), shape, new org.nd4j.linalg.learning.config.Adam(1e-3), 0, 0, new LossMCXENT());
    ModelSpec studentSpec = which.equals("assistant") ? cnn(16, 32, 64)
        : new ModelSpec(List.of(new LayerSpec.Dense(32, Activation.RELU, true), new LayerSpec.Output(10)));
    TeacherLogits.Live live = TeacherLogits.live(teacher);
    TrainingSpec spec = new TrainingSpec(1, 128, Optimizer.ADAM, 1e-3, new LearningRateSchedule.Constant(), 0, new dev.distill.core.data.Augmentation(2, true, 0));
    var empty = fm.subset(new int[0]);
    List<String> names = List.of("labels-1", "labels-2", "teacher-serial", "teacher-1", "teacher-2");
    Map<String, List<Double>> s = new LinkedHashMap<>();
    Map<String, INDArray> params = new HashMap<>();
    for (int turn = -1; turn < turns; turn++) {
      List<String> order = new ArrayList<>(names); if ((turn & 1) != 0) Collections.reverse(order);
      for (String e : order) {
        boolean withTeacher = e.startsWith("teacher");
        Trainer tr = new Trainer(spec, List.of()).withAugmentation(shape, withTeacher ? live : null);
        Network net = Networks.build(studentSpec, shape, new org.nd4j.linalg.learning.config.Adam(1e-3), 0, 1, withTeacher ? new DistillationLoss(4, 0.9, 0.1) : new LossMCXENT());
        System.gc();
        Supplier<Double> epoch = () -> { long t0 = System.nanoTime(); tr.fit(net, x, y, empty, 0, null); return (System.nanoTime() - t0) / 1e9; };
        double sec = e.endsWith("serial") ? Trainer.withPrefetch(false, epoch) : Trainer.withPrefetchThreads(e.endsWith("1") ? 1 : 2, epoch);
        if (turn >= 0) s.computeIfAbsent(e, k -> new ArrayList<>()).add(sec);
        if (withTeacher) params.put(e, net.params().dup());
      }
    }
    double base = Math.max(med(s.get("labels-1")), med(s.get("labels-2")));
    s.forEach((k, v) -> System.out.printf("%-15s median %.3f s/epoch ratio to the longer labels epoch %.2f  %s%n", k, med(v), med(v) / base, v));
    System.out.println("same parameters serial / 1 / 2 threads: " + params.get("teacher-serial").equals(params.get("teacher-1")) + " " + params.get("teacher-1").equals(params.get("teacher-2")));
  }
  static double med(List<Double> v) { List<Double> c = new ArrayList<>(v); Collections.sort(c); return c.get(c.size() / 2); }
}
