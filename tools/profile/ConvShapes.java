/*
 * The teacher's two convolution shapes and the poolings after them, each op alone through ND4J (oneDNN in the
 * project's native build), one batch of 64 (a split batch's part), random data: milliseconds a call, forward and
 * backward. The figures behind FewChannelConvolution (the 1 -> 32 layer costs as much as the 16x larger 32 -> 64):
 *
 *   OMP_NUM_THREADS=1 java -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 \
 *     -cp "distill-runner/target/distill-runner-0.1.0-SNAPSHOT.jar:distill-runner/target/lib/*" \
 *     tools/profile/ConvShapes.java
 */
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

public class ConvShapes {
  static double time(Runnable r, int n) { for (int i = 0; i < 3; i++) r.run(); long t = System.nanoTime(); for (int i = 0; i < n; i++) r.run(); return (System.nanoTime() - t) / 1e6 / n; }
  public static void main(String[] a) {
    int b = 64;
    for (int[] s : new int[][]{{1, 32, 28}, {32, 64, 14}}) {
      int ic = s[0], oc = s[1], hw = s[2];
      INDArray in = Nd4j.rand(DataType.FLOAT, b, ic, hw, hw).subi(0.5);
      INDArray w = Nd4j.rand(DataType.FLOAT, oc, ic, 3, 3).subi(0.5);
      INDArray bias = Nd4j.rand(DataType.FLOAT, oc);
      INDArray go = Nd4j.rand(DataType.FLOAT, b, oc, hw, hw).subi(0.5);
      INDArray gi = Nd4j.create(DataType.FLOAT, b, ic, hw, hw), gw = Nd4j.create(DataType.FLOAT, oc, ic, 3, 3), gb = Nd4j.create(DataType.FLOAT, oc);
      INDArray out = Nd4j.create(DataType.FLOAT, b, oc, hw, hw);
      int[] iargs = {3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 1};
      DynamicCustomOp bp = DynamicCustomOp.builder("conv2d_bp").addInputs(in, w, bias, go).addOutputs(gi, gw, gb).addIntegerArguments(iargs).build();
      DynamicCustomOp fw = DynamicCustomOp.builder("conv2d").addInputs(in, w, bias).addOutputs(out).addIntegerArguments(iargs).build();
      System.out.printf("conv %d->%d @%d: forward %.2f ms, backward %.2f ms%n", ic, oc, hw, time(() -> Nd4j.exec(fw), 20), time(() -> Nd4j.exec(bp), 20));
      INDArray pin = Nd4j.rand(DataType.FLOAT, b, oc, hw, hw), pout = Nd4j.create(DataType.FLOAT, b, oc, hw/2, hw/2), pgo = Nd4j.rand(DataType.FLOAT, b, oc, hw/2, hw/2), pgi = Nd4j.create(DataType.FLOAT, b, oc, hw, hw);
      int[] pargs = {2, 2, 2, 2, 0, 0, 1, 1, 0, 0, 0};
      DynamicCustomOp pf = DynamicCustomOp.builder("maxpool2d").addInputs(pin).addOutputs(pout).addIntegerArguments(pargs).build();
      DynamicCustomOp pb = DynamicCustomOp.builder("maxpool2d_bp").addInputs(pin, pgo).addOutputs(pgi).addIntegerArguments(pargs).build();
      System.out.printf("  pool after it: forward %.2f ms, backward %.2f ms%n", time(() -> Nd4j.exec(pf), 20), time(() -> Nd4j.exec(pb), 20));
    }
  }
}
