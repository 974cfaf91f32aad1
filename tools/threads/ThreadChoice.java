import org.deeplearning4j.nn.conf.*;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.*;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import java.util.*;

/**
 * Training samples per second of small and large networks on one thread and on two, in turns in one
 * process (ND4J's threads switched at run time as ComputeThreads does), on random 28x28 inputs, batch 128,
 * Adam: the measurement behind ComputeThreads.ONE_THREAD_BELOW. Run on a quiet machine from the project:
 *
 *   ./distill validate configs/digits-takd.yaml    # builds the jars once
 *   OMP_WAIT_POLICY=PASSIVE java -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 \
 *     -cp "distill-runner/target/distill-runner-0.1.0-SNAPSHOT.jar:distill-runner/target/lib/*" \
 *     tools/threads/ThreadChoice.java mlp32 mlp128 mlp512 cnn8 cnn16 teacher
 *
 * Prints, per network, its multiply-adds per batch and the median (min, max) samples/s of six turns each.
 */
public class ThreadChoice {
  static void threads(int n) {
    dev.distill.models.network.ComputeThreads.use(n);   // not restored: each turn sets its own
  }
  static MultiLayerNetwork net(String kind) {
    NeuralNetConfiguration.ListBuilder b = new NeuralNetConfiguration.Builder().seed(1).dataType(DataType.FLOAT)
      .updater(new Adam(1e-3)).weightInit(WeightInit.XAVIER_UNIFORM).cacheMode(CacheMode.DEVICE).list();
    switch (kind) {
      case "mlp32": b.layer(new DenseLayer.Builder().nOut(32).activation(Activation.RELU).build()); break;
      case "mlp128": b.layer(new DenseLayer.Builder().nOut(128).activation(Activation.RELU).build()); break;
      case "mlp512": b.layer(new DenseLayer.Builder().nOut(512).activation(Activation.RELU).build()).layer(new DenseLayer.Builder().nOut(256).activation(Activation.RELU).build()); break;
      case "cnn8": b.layer(new ConvolutionLayer.Builder(3,3).nOut(8).convolutionMode(ConvolutionMode.Same).activation(Activation.RELU).build())
                    .layer(new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2,2).stride(2,2).build()); break;
      case "cnn16": b.layer(new ConvolutionLayer.Builder(3,3).nOut(16).convolutionMode(ConvolutionMode.Same).activation(Activation.RELU).build())
                    .layer(new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2,2).stride(2,2).build())
                    .layer(new ConvolutionLayer.Builder(3,3).nOut(32).convolutionMode(ConvolutionMode.Same).activation(Activation.RELU).build())
                    .layer(new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2,2).stride(2,2).build())
                    .layer(new DenseLayer.Builder().nOut(128).activation(Activation.RELU).build()); break;
      case "teacher": b.layer(new ConvolutionLayer.Builder(3,3).nOut(32).convolutionMode(ConvolutionMode.Same).activation(Activation.RELU).build())
                    .layer(new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2,2).stride(2,2).build())
                    .layer(new ConvolutionLayer.Builder(3,3).nOut(64).convolutionMode(ConvolutionMode.Same).activation(Activation.RELU).build())
                    .layer(new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2,2).stride(2,2).build())
                    .layer(new DenseLayer.Builder().nOut(256).activation(Activation.RELU).build()); break;
    }
    b.layer(new OutputLayer.Builder(new LossMCXENT()).nOut(10).activation(Activation.SOFTMAX).build())
     .setInputType(InputType.convolutionalFlat(28,28,1));
    MultiLayerNetwork net = new MultiLayerNetwork(b.build()); net.init();
    dev.distill.models.network.ConvBackend.DEFAULT.apply(net);
    return net;
  }
  /** {@code count} batches of 128 random 28x28 inputs with random one-hot labels. */
  static List<DataSet> randomBatches(int count) {
    Random r = new Random(1);
    List<DataSet> batches = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      INDArray x = Nd4j.rand(DataType.FLOAT, 128, 784);
      INDArray y = Nd4j.zeros(DataType.FLOAT, 128, 10);
      for (int k = 0; k < 128; k++) y.putScalar(k, r.nextInt(10), 1f);
      batches.add(new DataSet(x, y));
    }
    return batches;
  }

  /**
   * Samples/s of {@code steps} fit calls of each named network in turns, the order reversed every other turn, one
   * warm-up turn and then {@code turns}: "name median (min max)" for each.
   */
  static String inTurns(Map<String, MultiLayerNetwork> nets, List<DataSet> batches, int steps, int turns) {
    List<String> names = new ArrayList<>(nets.keySet());
    Map<String, List<Double>> rates = new LinkedHashMap<>();
    for (int turn = -1; turn < turns; turn++) {
      List<String> order = new ArrayList<>(names);
      if (turn % 2 != 0) Collections.reverse(order);
      for (String name : order) {
        MultiLayerNetwork net = nets.get(name);
        long t = System.nanoTime();
        for (int s = 0; s < steps; s++) net.fit(batches.get(s % batches.size()));
        double rate = steps * 128 / ((System.nanoTime() - t) / 1e9);
        if (turn >= 0) rates.computeIfAbsent(name, x -> new ArrayList<>()).add(rate);
      }
    }
    StringBuilder sb = new StringBuilder();
    for (String name : names) {
      List<Double> v = new ArrayList<>(rates.get(name));
      Collections.sort(v);
      sb.append(String.format("  %s median %.0f (min %.0f max %.0f)", name, v.get(v.size() / 2), v.get(0), v.get(v.size() - 1)));
    }
    return sb.toString();
  }

  public static void main(String[] a) {
    List<DataSet> batches = randomBatches(20);
    for (String kind : a) {
      MultiLayerNetwork net = net(kind);
      int steps = kind.startsWith("mlp") ? 20 : kind.equals("teacher") ? 8 : 10;
      // modes: one thread, two threads, the batch split in two halves on one thread each (SplitBatchSteps)
      String[] modes = {"1 thr", "2 thr", "2 halves"};
      dev.distill.models.network.SplitBatchSteps split = dev.distill.models.network.SplitBatchSteps.of(
          dev.distill.models.network.Network.of(net), 2);
      Map<String, List<Double>> rates = new LinkedHashMap<>();
      for (int round = -1; round < 6; round++) {
        for (int m = 0; m < modes.length; m++) {
          int mode = (m + Math.max(round, 0)) % modes.length;   // each mode first in turn
          threads(mode == 1 ? 2 : 1);
          long w0 = System.nanoTime();
          for (int s = 0; s < steps; s++) {
            if (mode == 2) split.fit(batches.get(s % batches.size())); else net.fit(batches.get(s % batches.size()));
          }
          double rate = steps * 128 / ((System.nanoTime() - w0) / 1e9);
          if (round >= 0) rates.computeIfAbsent(modes[mode], k -> new ArrayList<>()).add(rate);
        }
      }
      split.close();
      long macs = dev.distill.models.network.ComputeThreads.multiplyAdds(dev.distill.models.network.Network.of(net),
          Nd4j.rand(DataType.FLOAT, 1, 784)) * 128;
      StringBuilder sb = new StringBuilder(String.format("%-8s %,9d params %,13d multiply-adds a batch", kind, net.numParams(), macs));
      for (var e : rates.entrySet()) { List<Double> v = e.getValue(); Collections.sort(v); sb.append(String.format("  %s median %.0f (min %.0f max %.0f)", e.getKey(), v.get(v.size()/2), v.get(0), v.get(v.size()-1))); }
      System.out.println(sb);
    }
  }
}
