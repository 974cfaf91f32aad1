import dev.distill.core.loss.DistillationLoss;
import dev.distill.core.train.*;
import dev.distill.models.network.*;
import dev.distill.models.spec.*;
import dev.distill.onnx.*;
import java.util.*;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * Augmented epochs (shift 2, flip) of a student (the 784-32-10 MLP, or "assistant": the protocol's CNN 16-32-64) on
 * labels and distilled from the protocol's teacher (untrained) computing logits on every view, all in turns in one
 * process; median seconds an epoch, the ratio to the longer labels epoch, and whether the distilled students ended
 * with the same parameters. "threads": the teacher on the compiled runtime with batches made on the training thread
 * (teacher-serial), on one prefetch thread (teacher-1) and on two (teacher-2), the labels epochs with one and two;
 * "engines": the teacher on the compiled runtime and on ONNX Runtime (exported by OnnxExporter) with one and with two
 * intra-op threads, batches made as the Trainer chooses:
 *
 *   java -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 \
 *     -cp "distill-runner/target/distill-runner-0.1.0-SNAPSHOT.jar:distill-runner/target/lib/*" \
 *     tools/profile/LiveTeacher.java [threads|engines] [student|assistant] [turns] [examples]
 */
public class LiveTeacher {
  /** One kind of epoch: its teacher (null: labels alone) and where its batches are made (null: as the Trainer chooses). */
  record Variant(TeacherLogits.Live teacher, String prefetch) {}

  static ModelSpec cnn(int a, int b, int d) { return new ModelSpec(List.of(
        new LayerSpec.Conv2d(a, 3, 1, LayerSpec.Padding.SAME, Activation.RELU, true), new LayerSpec.Pool(LayerSpec.PoolType.MAX, 2, 2),
        new LayerSpec.Conv2d(b, 3, 1, LayerSpec.Padding.SAME, Activation.RELU, true), new LayerSpec.Pool(LayerSpec.PoolType.MAX, 2, 2),
        new LayerSpec.Dense(d, Activation.RELU, true), new LayerSpec.Output(10))); }

  public static void main(String[] a) {
    String mode = a.length > 0 ? a[0] : "threads";
    String which = a.length > 1 ? a[1] : "student";
    int turns = a.length > 2 ? Integer.parseInt(a[2]) : 5;
    int n = a.length > 3 ? Integer.parseInt(a[3]) : 10000;
    var fm = dev.distill.runner.data.Datasets.fashionMnistTrain(dev.distill.runner.data.Datasets.FASHION_MNIST_DIR);
    INDArray x = fm.features().get(NDArrayIndex.interval(0, n), NDArrayIndex.all()).dup();
    INDArray y = fm.oneHot().get(NDArrayIndex.interval(0, n), NDArrayIndex.all()).dup();
    InputShape shape = InputShape.image(28, 28, 1);
    Network teacher = Networks.build(cnn(32, 64, 256), shape, new org.nd4j.linalg.learning.config.Adam(1e-3), 0, 0, new LossMCXENT());
    ModelSpec studentSpec = which.equals("assistant") ? cnn(16, 32, 64)
        : new ModelSpec(List.of(new LayerSpec.Dense(32, Activation.RELU, true), new LayerSpec.Output(10)));
    TeacherLogits.Live compiled = TeacherLogits.live(teacher);
    Map<String, Variant> variants = new LinkedHashMap<>();
    if (mode.equals("engines")) {
      variants.put("labels", new Variant(null, null));
      variants.put("compiled", new Variant(compiled, null));
      byte[] onnx = OnnxExporter.export(teacher, Map.of()).toByteArray();
      for (int t : new int[] {1, 2}) {   // one session serves calls from several threads at once
        OrtModel m = OrtModel.of(onnx, t);
        UnaryOperator<INDArray> forward = f -> m.run(f, OnnxExporter.LOGITS);
        variants.put("ort-" + t, new Variant(TeacherLogits.Live.concurrent("ort-" + t, forward, () -> forward), null));
      }
    } else {
      variants.put("labels-1", new Variant(null, "1"));
      variants.put("labels-2", new Variant(null, "2"));
      variants.put("teacher-serial", new Variant(compiled, "false"));
      variants.put("teacher-1", new Variant(compiled, "1"));
      variants.put("teacher-2", new Variant(compiled, "2"));
    }
    TrainingSpec spec = new TrainingSpec(1, 128, Optimizer.ADAM, 1e-3, new LearningRateSchedule.Constant(), 0, new dev.distill.core.data.Augmentation(2, true, 0));
    var empty = fm.subset(new int[0]);
    Map<String, List<Double>> s = new LinkedHashMap<>();
    Map<String, INDArray> params = new LinkedHashMap<>();
    List<String> names = new ArrayList<>(variants.keySet());
    for (int turn = -1; turn < turns; turn++) {
      List<String> order = new ArrayList<>(names); if ((turn & 1) != 0) Collections.reverse(order);
      for (String name : order) {
        Variant v = variants.get(name);
        Trainer tr = new Trainer(spec, List.of()).withAugmentation(shape, v.teacher());
        Network net = Networks.build(studentSpec, shape, new org.nd4j.linalg.learning.config.Adam(1e-3), 0, 1, v.teacher() == null ? new LossMCXENT() : new DistillationLoss(4, 0.9, 0.1));
        System.gc();
        Supplier<Double> epoch = () -> { long t0 = System.nanoTime(); tr.fit(net, x, y, empty, 0, null); return (System.nanoTime() - t0) / 1e9; };
        double sec = v.prefetch() == null ? epoch.get() : v.prefetch().equals("false") ? Trainer.withPrefetch(false, epoch)
            : Trainer.withPrefetchThreads(Integer.parseInt(v.prefetch()), epoch);
        if (turn >= 0) s.computeIfAbsent(name, k -> new ArrayList<>()).add(sec);
        if (v.teacher() != null) params.put(name, net.params().dup());
      }
    }
    double base = s.entrySet().stream().filter(e -> variants.get(e.getKey()).teacher() == null).mapToDouble(e -> med(e.getValue())).max().orElseThrow();
    s.forEach((k, v) -> System.out.printf("%-15s median %.3f s/epoch, %.2fx the longer labels epoch  %s%n", k, med(v), med(v) / base, v));
    String firstName = names.stream().filter(params::containsKey).findFirst().orElseThrow();
    float[] first = params.get(firstName).toFloatVector();   // bit for bit: INDArray.equals allows a tolerance
    names.stream().filter(params::containsKey).forEach(k -> System.out.println(k + ": the same parameters as "
        + firstName + ", bit for bit: " + Arrays.equals(first, params.get(k).toFloatVector())));
  }

  static double med(List<Double> v) { List<Double> c = new ArrayList<>(v); Collections.sort(c); return c.get(c.size() / 2); }
}
