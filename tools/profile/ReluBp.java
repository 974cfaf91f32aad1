import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import java.nio.FloatBuffer;
/**
 * libnd4j's relu_bp op against a Java loop (copies in and out included) on the teacher's two conv outputs for a
 * half-batch of 64: whether the ReLU backward pass is a kernel to replace or memory-bound (docs/results.md,
 * session 5). From the project:
 *
 *   ./distill validate configs/digits-takd.yaml    # builds the jars once
 *   OMP_WAIT_POLICY=PASSIVE java -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 \
 *     -cp "distill-runner/target/distill-runner-0.1.0-SNAPSHOT.jar:distill-runner/target/lib/*" tools/profile/ReluBp.java
 */
public class ReluBp {
  public static void main(String[] a) {
    dev.distill.models.network.ComputeThreads.use(1);
    for (long[] shape : new long[][]{{64, 32, 28, 28}, {64, 64, 14, 14}}) {
      INDArray z = Nd4j.rand(DataType.FLOAT, shape).subi(0.5), eps = Nd4j.rand(DataType.FLOAT, shape);
      int n = (int) z.length();
      float[] zs = new float[n], es = new float[n], out = new float[n];
      INDArray res = z.ulike();
      for (int rep = 0; rep < 3; rep++) {
        int k = 30;
        long t = System.nanoTime();
        for (int i = 0; i < k; i++) Nd4j.getExecutioner().exec(new org.nd4j.linalg.api.ops.impl.scalar.RectifiedLinearDerivative(z, eps, z.ulike(), 0.0));
        long t1 = System.nanoTime();
        for (int i = 0; i < k; i++) {
          FloatBuffer zb = z.data().asNioFloat(), eb = eps.data().asNioFloat(), rb = res.data().asNioFloat();
          zb.get(0, zs, 0, n); eb.get(0, es, 0, n);
          for (int j = 0; j < n; j++) out[j] = zs[j] > 0 ? es[j] : 0f;
          rb.put(0, out, 0, n);
        }
        long t2 = System.nanoTime();
        for (int i = 0; i < k; i++) res.assign(eps);
        long t3 = System.nanoTime();
        for (int i = 0; i < k; i++) {
          FloatBuffer zb = z.data().asNioFloat(), eb = eps.data().asNioFloat(), rb = res.data().asNioFloat();
          zb.get(0, zs, 0, n); eb.get(0, es, 0, n);
          for (int j = 0; j < n; j++) {   // no branch: all ones where z > 0 (positive bits), else zero
            int bits = Float.floatToRawIntBits(zs[j]);
            int mask = ((-bits) >> 31) & ~(bits >> 31);
            out[j] = Float.intBitsToFloat(Float.floatToRawIntBits(es[j]) & mask);
          }
          rb.put(0, out, 0, n);
        }
        long t4 = System.nanoTime();
        System.out.printf("%s: relu_bp op %.2f ms (%.2f ns/elem), java with a branch %.2f ms, java without %.2f ms, a copy of the array %.2f ms%n",
            java.util.Arrays.toString(shape), (t1-t)/1e6/k, (t1-t)/(double)k/n, (t2-t1)/1e6/k, (t4-t3)/1e6/k, (t3-t2)/1e6/k);
      }
    }
  }
}
