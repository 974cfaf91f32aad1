import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import java.util.*;

/**
 * Training steps of the same network with DL4J's dense layers and with dev.distill.models.network.LeanDenseBackprop's,
 * both with Adam's update in Java, in alternating turns in one process on one thread (as the Trainer picks for the
 * student; the teacher on one thread too, as each part of its split batches runs). Needs
 * tools/threads/ThreadChoice.java for the networks. Run on a quiet machine from the project:
 *
 *   ./distill validate configs/digits-takd.yaml    # builds the jars once
 *   CP="distill-runner/target/distill-runner-0.1.0-SNAPSHOT.jar:distill-runner/target/lib/*"
 *   mkdir -p /tmp/lean && javac -d /tmp/lean -cp "$CP" tools/threads/ThreadChoice.java tools/profile/LeanDense.java
 *   OMP_WAIT_POLICY=PASSIVE java -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -cp "/tmp/lean:$CP" LeanDense mlp32 mlp128 teacher
 *
 * Prints samples/s (median, min, max of 8 turns each).
 */
public class LeanDense {
  public static void main(String[] a) {
    dev.distill.models.network.ComputeThreads.use(1);
    Random r = new Random(1);
    List<DataSet> batches = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      INDArray x = Nd4j.rand(DataType.FLOAT, 128, 784);
      INDArray y = Nd4j.zeros(DataType.FLOAT, 128, 10);
      for (int j = 0; j < 128; j++) y.putScalar(j, r.nextInt(10), 1f);
      batches.add(new DataSet(x, y));
    }
    for (String kind : a) {
      MultiLayerNetwork dl4j = ThreadChoice.net(kind);
      MultiLayerNetwork lean = ThreadChoice.net(kind);
      dev.distill.models.network.JavaAdamUpdater.install(dev.distill.models.network.Network.of(dl4j));
      dev.distill.models.network.JavaAdamUpdater.install(dev.distill.models.network.Network.of(lean));
      int layers = dev.distill.models.network.LeanDenseBackprop.install(dev.distill.models.network.Network.of(lean));
      int steps = kind.equals("teacher") ? 8 : 400;
      Map<String, List<Double>> rates = new LinkedHashMap<>();
      for (int turn = -1; turn < 8; turn++) {
        for (MultiLayerNetwork net : (turn % 2 == 0 ? List.of(dl4j, lean) : List.of(lean, dl4j))) {
          long t = System.nanoTime();
          for (int s = 0; s < steps; s++) net.fit(batches.get(s % batches.size()));
          double rate = steps * 128 / ((System.nanoTime() - t) / 1e9);
          if (turn >= 0) rates.computeIfAbsent(net == dl4j ? "DL4J's dense" : "lean dense", x -> new ArrayList<>()).add(rate);
        }
      }
      StringBuilder sb = new StringBuilder(String.format("%-8s (%d lean layer%s) samples/s:", kind, layers, layers == 1 ? "" : "s"));
      for (var e : rates.entrySet()) { List<Double> s = new ArrayList<>(e.getValue()); Collections.sort(s);
        sb.append(String.format("  %s median %.0f (min %.0f max %.0f)", e.getKey(), s.get(s.size() / 2), s.get(0), s.get(s.size() - 1))); }
      System.out.println(sb);
    }
  }
}
