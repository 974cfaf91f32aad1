import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
/**
 * The weight gradient of a dense layer, x^T delta, as ND4J's gemm computes it into DL4J's f-order gradient view
 * and as (delta^T x)^T into that view's transpose, for the student's and the teacher's shapes (batch, in, out);
 * best of 10, microseconds, and how far apart the two results are. One thread:
 *
 *   OMP_NUM_THREADS=1 java -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 \
 *     -cp "distill-runner/target/distill-runner-0.1.0-SNAPSHOT.jar:distill-runner/target/lib/*" \
 *     tools/profile/WeightGradientGemm.java
 */
public class WeightGradientGemm {
  public static void main(String[] a) {
    int[][] shapes = {{128,784,32},{64,3136,256},{128,32,10},{64,256,10},{128,784,128}};
    for (int[] s : shapes) {
      INDArray x = Nd4j.rand(DataType.FLOAT, s[0], s[1]), d = Nd4j.rand(DataType.FLOAT, s[0], s[2]);
      INDArray gw = Nd4j.create(DataType.FLOAT, new long[]{s[1], s[2]}, 'f');
      INDArray gw2 = Nd4j.create(DataType.FLOAT, new long[]{s[1], s[2]}, 'f');
      INDArray gwT = gw2.transpose();
      int n = Math.max(20, 20000000 / (s[0]*s[1]*s[2]));
      double best1 = 1e9, best2 = 1e9;
      for (int rep = 0; rep < 10; rep++) {
        long t = System.nanoTime(); for (int i = 0; i < n; i++) Nd4j.gemm(x, d, gw, true, false, 1, 0); long t1 = System.nanoTime();
        for (int i = 0; i < n; i++) Nd4j.gemm(d, x, gwT, true, false, 1, 0); long t2 = System.nanoTime();
        best1 = Math.min(best1, (t1-t)/1e3/n); best2 = Math.min(best2, (t2-t1)/1e3/n);
      }
      System.out.printf("%s: xT.d %.1f us, (dT.x)T %.1f us, equal within ND4J's eps=%s, max |diff| %.2e%n", java.util.Arrays.toString(s), best1, best2, gw.equals(gw2), gw.sub(gw2).amaxNumber().doubleValue());
    }
  }
}
