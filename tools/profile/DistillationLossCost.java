import dev.distill.core.loss.DistillationLoss;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
/**
 * The project's distillation loss (T 4, soft weight 0.9) against DL4J's softmax cross-entropy, gradient and score
 * of a batch of 128 x 10 (random logits, teacher logits and labels), microseconds a batch over 1,000 batches:
 *
 *   OMP_NUM_THREADS=1 java -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 \
 *     -cp "distill-runner/target/distill-runner-0.1.0-SNAPSHOT.jar:distill-runner/target/lib/*" \
 *     tools/profile/DistillationLossCost.java
 */
public class DistillationLossCost {
  public static void main(String[] a) {
    Nd4j.getRandom().setSeed(1);
    int n = 128;
    INDArray[] pre = new INDArray[50], wide = new INDArray[50], hard = new INDArray[50];
    for (int i = 0; i < 50; i++) {
      pre[i] = Nd4j.randn(DataType.FLOAT, n, 10).muli(2);
      INDArray y = Nd4j.zeros(DataType.FLOAT, n, 10); for (int r = 0; r < n; r++) y.putScalar(r, (r * 7 + i) % 10, 1f);
      hard[i] = y;
      wide[i] = DistillationLoss.labels(y, Nd4j.randn(DataType.FLOAT, n, 10).muli(3));
    }
    DistillationLoss kd = new DistillationLoss(4, 0.9, 0.1);
    LossMCXENT ce = new LossMCXENT();
    ActivationSoftmax sm = new ActivationSoftmax();
    for (int rep = 0; rep < Integer.getInteger("reps", 10); rep++) {
      long t = System.nanoTime();
      for (int k = 0; k < 20; k++) for (int i = 0; i < 50; i++) kd.computeGradientAndScore(wide[i], pre[i], sm, null, false);
      long t1 = System.nanoTime();
      for (int k = 0; k < 20; k++) for (int i = 0; i < 50; i++) ce.computeGradientAndScore(hard[i], pre[i], sm, null, false);
      long t2 = System.nanoTime();
      System.out.printf("kd %.1f us/batch, DL4J mcxent %.1f us/batch%n", (t1 - t) / 1e3 / 1000, (t2 - t1) / 1e3 / 1000);
    }
  }
}
