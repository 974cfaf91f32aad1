import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import java.util.*;
import java.util.concurrent.*;
/**
 * The protocol teacher's gradient on one half-batch (64 rows) alone, two halves at once on two threads (a second
 * network on a second thread), and Adam's update of all its parameters on one and on two threads: what a split
 * batch's step is made of (docs/results.md, session 5). Needs tools/threads/ThreadChoice.java. From the project:
 *
 *   ./distill validate configs/digits-takd.yaml    # builds the jars once
 *   CP="distill-runner/target/distill-runner-0.1.0-SNAPSHOT.jar:distill-runner/target/lib/*"
 *   mkdir -p /tmp/halves && javac -d /tmp/halves -cp "$CP" tools/threads/ThreadChoice.java tools/profile/Halves.java
 *   OMP_WAIT_POLICY=PASSIVE java -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -cp "/tmp/halves:$CP" Halves teacher
 *
 * Prints four rounds of milliseconds (means of ten).
 */
public class Halves {
  public static void main(String[] a) throws Exception {
    MultiLayerNetwork net = ThreadChoice.net(a[0]);
    dev.distill.models.network.ComputeThreads.use(1);
    INDArray x = Nd4j.rand(DataType.FLOAT, 128, 784); INDArray y = Nd4j.zeros(DataType.FLOAT,128,10);
    for (int k=0;k<128;k++) y.putScalar(k, k%10, 1f);
    INDArray x64 = x.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0,64), org.nd4j.linalg.indexing.NDArrayIndex.all());
    INDArray y64 = y.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0,64), org.nd4j.linalg.indexing.NDArrayIndex.all());
    MultiLayerNetwork other = ThreadChoice.net(a[0]);
    ExecutorService ex = Executors.newSingleThreadExecutor();
    ex.submit(() -> org.nd4j.nativeblas.NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(1)).get();
    for (int r = 0; r < 4; r++) {
      long t0 = System.nanoTime(); for (int i=0;i<10;i++){ net.setInput(x64); net.setLabels(y64); net.computeGradientAndScore(); } long t1 = System.nanoTime();
      for (int i=0;i<10;i++){ Future<?> f = ex.submit(() -> { other.setInput(x64); other.setLabels(y64); other.computeGradientAndScore(); }); net.setInput(x64); net.setLabels(y64); net.computeGradientAndScore(); f.get(); } long t2 = System.nanoTime();
      for (int i=0;i<10;i++){ net.getUpdater().update(net, net.gradient(), 1, 0, 128, LayerWorkspaceMgr.noWorkspaces()); } long t3 = System.nanoTime();
      dev.distill.models.network.ComputeThreads.use(2);
      for (int i=0;i<10;i++){ net.getUpdater().update(net, net.gradient(), 1, 0, 128, LayerWorkspaceMgr.noWorkspaces()); } long t4 = System.nanoTime();
      dev.distill.models.network.ComputeThreads.use(1);
      System.out.printf("half grad alone %.1f ms, two halves at once %.1f ms, update 1 thr %.1f ms, update 2 thr %.1f ms%n", (t1-t0)/1e7, (t2-t1)/1e7, (t3-t2)/1e7, (t4-t3)/1e7);
    }
    ex.shutdown();
  }
}
