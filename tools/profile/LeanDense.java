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
    List<DataSet> batches = ThreadChoice.randomBatches(10);
    for (String kind : a) {
      MultiLayerNetwork dl4j = ThreadChoice.net(kind);
      MultiLayerNetwork lean = ThreadChoice.net(kind);
      dev.distill.models.network.JavaAdamUpdater.install(dev.distill.models.network.Network.of(dl4j));
      dev.distill.models.network.JavaAdamUpdater.install(dev.distill.models.network.Network.of(lean));
      int layers = dev.distill.models.network.LeanDenseBackprop.install(dev.distill.models.network.Network.of(lean));
      Map<String, MultiLayerNetwork> nets = new LinkedHashMap<>();
      nets.put("DL4J's dense", dl4j);
      nets.put("lean dense", lean);
      System.out.println(String.format("%-8s (%d lean layer%s) samples/s:", kind, layers, layers == 1 ? "" : "s")
          + ThreadChoice.inTurns(nets, batches, kind.equals("teacher") ? 8 : 400, 8));
    }
  }
}
