import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import java.util.*;

/**
 * Adam's update: libnd4j's adam_updater op against dev.distill.models.network.JavaAdamUpdater, alone on arrays
 * of the student's and the teacher's sizes, and inside whole training steps (the same network trained with either
 * updater, in alternating turns in one process, one thread as the Trainer picks for the student). Needs
 * tools/threads/ThreadChoice.java for the networks. Run on a quiet machine from the project:
 *
 *   ./distill validate configs/digits-takd.yaml    # builds the jars once
 *   CP="distill-runner/target/distill-runner-0.1.0-SNAPSHOT.jar:distill-runner/target/lib/*"
 *   mkdir -p /tmp/adam && javac -d /tmp/adam -cp "$CP" tools/threads/ThreadChoice.java tools/profile/AdamKernel.java
 *   OMP_WAIT_POLICY=PASSIVE java -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -cp "/tmp/adam:$CP" AdamKernel mlp32 teacher
 *
 * Prints microseconds per update (median of 5 turns) and samples/s of the steps (median, min, max of 8 turns each).
 */
public class AdamKernel {
  static double median(List<Double> v) { List<Double> s = new ArrayList<>(v); Collections.sort(s); return s.get(s.size() / 2); }

  public static void main(String[] a) {
    dev.distill.models.network.ComputeThreads.use(1);
    for (String kind : a) {
      MultiLayerNetwork nd4j = ThreadChoice.net(kind);
      MultiLayerNetwork java = ThreadChoice.net(kind);
      dev.distill.models.network.JavaAdamUpdater.install(dev.distill.models.network.Network.of(java));
      long n = nd4j.numParams();
      // the kernel alone, on the gradient the update overwrites (reset from a copy each time, timed apart)
      INDArray g0 = Nd4j.rand(DataType.FLOAT, n).subi(0.5).muli(0.01);
      INDArray m = Nd4j.zeros(DataType.FLOAT, n), v = Nd4j.zeros(DataType.FLOAT, n), g = g0.dup();
      float[] gj = g0.toFloatVector(), mj = new float[(int) n], vj = new float[(int) n];
      int k = n > 100_000 ? 40 : 1000;
      List<Double> op = new ArrayList<>(), loop = new ArrayList<>();
      for (int turn = 0; turn < 6; turn++) {
        long t = System.nanoTime();
        for (int i = 0; i < k; i++) { g.assign(g0); Nd4j.exec(new org.nd4j.linalg.api.ops.impl.updaters.AdamUpdater(g, v, m, 1e-3, 0.9, 0.999, 1e-8, 100)); }
        long t1 = System.nanoTime();
        for (int i = 0; i < k; i++) { g.assign(g0); }
        long t2 = System.nanoTime();
        for (int i = 0; i < k; i++) { dev.distill.models.network.JavaAdamUpdater.update(gj, mj, vj, 1e-3f, 0.9f, 0.999f, 1e-8f, 100); }
        long t3 = System.nanoTime();
        if (turn > 0) { op.add(((t1 - t) - (t2 - t1)) / 1e3 / k); loop.add((t3 - t2) / 1e3 / k); }
      }
      System.out.printf("%-8s %,9d params: adam_updater op %.1f us, Java loop %.1f us (without the copies in and out)%n",
          kind, n, median(op), median(loop));
      // whole steps
      Map<String, MultiLayerNetwork> nets = new LinkedHashMap<>();
      nets.put("nd4j's Adam", nd4j);
      nets.put("Java Adam", java);
      System.out.println(String.format("%-8s steps, samples/s:", kind)
          + ThreadChoice.inTurns(nets, ThreadChoice.randomBatches(10), kind.equals("teacher") ? 8 : 400, 8));
    }
  }
}
