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
import org.nd4j.linalg.api.ops.executioner.OpExecutioner;
import org.nd4j.linalg.profiler.OpProfiler;
import java.lang.management.*;
import java.util.*;

/**
 * A 784-H-10 MLP (Adam, batch 128, 100 random batches) trained with DL4J's plain fit: milliseconds a step on the
 * wall clock and the thread's CPU clock per pass, and with a second argument ND4J's OpProfiler dashboard (op counts
 * and times) over ten steps. -Dloss=kd trains with the project's DistillationLoss (soft weight 0) instead of
 * LossMCXENT; -Done=true sets one thread at run time. The figures of docs/results.md's session-4 speed section
 * (op counts, Adam's cost, the loss comparison):
 *
 *   OMP_NUM_THREADS=1 java -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -Dreps=15 \
 *     -cp "distill-runner/target/distill-runner-0.1.0-SNAPSHOT.jar:distill-runner/target/lib/*" \
 *     tools/profile/MlpOps.java 32 ops
 */
public class MlpOps {
  public static void main(String[] a) {
    if (Boolean.getBoolean("one")) {
      Nd4j.getEnvironment().setMaxThreads(1); Nd4j.getEnvironment().setMaxMasterThreads(1);
      Nd4j.factory().blas().setMaxThreads(1);
      org.nd4j.nativeblas.NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(1);
    }
    int hidden = Integer.parseInt(a.length > 0 ? a[0] : "32");
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(1).dataType(DataType.FLOAT)
      .updater(new Adam(1e-3)).weightInit(WeightInit.XAVIER_UNIFORM).cacheMode(CacheMode.DEVICE).list()
      .layer(new DenseLayer.Builder().nIn(784).nOut(hidden).activation(Activation.RELU).build())
      .layer(new OutputLayer.Builder(System.getProperty("loss","mcxent").equals("kd") ? new dev.distill.core.loss.DistillationLoss(1.0, 0.0, 1.0) : new LossMCXENT()).nOut(10).activation(Activation.SOFTMAX).build())
      .setInputType(InputType.feedForward(784)).build();
    MultiLayerNetwork net = new MultiLayerNetwork(conf); net.init();
    List<DataSet> batches = new ArrayList<>();
    Random r = new Random(1);
    for (int i = 0; i < 100; i++) {
      INDArray x = Nd4j.rand(DataType.FLOAT, 128, 784);
      INDArray y = Nd4j.zeros(DataType.FLOAT, 128, 10);
      for (int k = 0; k < 128; k++) y.putScalar(k, r.nextInt(10), 1f);
      batches.add(new DataSet(x, System.getProperty("loss","mcxent").equals("kd") ? Nd4j.hstack(y, Nd4j.zeros(DataType.FLOAT,128,10)) : y));
    }
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    int reps = Integer.parseInt(System.getProperty("reps","8")); for (int rep = 0; rep < reps; rep++) {
      long c0 = mx.getCurrentThreadCpuTime(), w0 = System.nanoTime();
      for (DataSet d : batches) net.fit(d);
      long c1 = mx.getCurrentThreadCpuTime(), w1 = System.nanoTime();
      System.out.printf("pass %d: %.3f ms/step wall, %.3f ms/step cpu, %.0f samples/cpu-s%n", rep, (w1-w0)/1e6/100, (c1-c0)/1e6/100, 12800/((c1-c0)/1e9));
    }
    if (a.length > 1) {
      Nd4j.getExecutioner().setProfilingMode(OpExecutioner.ProfilingMode.OPERATIONS);
      OpProfiler.getInstance().reset();
      for (DataSet d : batches.subList(0, 10)) net.fit(d);
      OpProfiler.getInstance().printOutDashboard();
    }
  }
}
