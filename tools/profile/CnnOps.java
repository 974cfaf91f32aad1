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
 * The protocol's teacher CNN (oneDNN conv helpers as the project applies them; Adam, batch 128, 10 random
 * batches) trained with DL4J's plain fit: milliseconds a step per pass, and with an argument ND4J's OpProfiler
 * dashboard over five steps (the teacher's op shares in docs/results.md's session-4 speed section):
 *
 *   OMP_NUM_THREADS=1 java -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 \
 *     -cp "distill-runner/target/distill-runner-0.1.0-SNAPSHOT.jar:distill-runner/target/lib/*" \
 *     tools/profile/CnnOps.java ops
 */
public class CnnOps {
  public static void main(String[] a) {
    String t = System.getProperty("thr");
    if (t != null) { int n = Integer.parseInt(t);
      System.out.println("before: master " + Nd4j.getEnvironment().maxMasterThreads() + " max " + Nd4j.getEnvironment().maxThreads() + " omp " + org.nd4j.nativeblas.NativeOpsHolder.getInstance().getDeviceNativeOps().ompGetMaxThreads() + " blas " + Nd4j.factory().blas().getMaxThreads());
      Nd4j.getEnvironment().setMaxMasterThreads(n); Nd4j.factory().blas().setMaxThreads(n);
      org.nd4j.nativeblas.NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(n); }
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(1).dataType(DataType.FLOAT)
      .updater(new Adam(1e-3)).weightInit(WeightInit.XAVIER_UNIFORM).cacheMode(CacheMode.DEVICE).list()
      .layer(new ConvolutionLayer.Builder(3,3).nOut(32).convolutionMode(ConvolutionMode.Same).activation(Activation.RELU).build())
      .layer(new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2,2).stride(2,2).build())
      .layer(new ConvolutionLayer.Builder(3,3).nOut(64).convolutionMode(ConvolutionMode.Same).activation(Activation.RELU).build())
      .layer(new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2,2).stride(2,2).build())
      .layer(new DenseLayer.Builder().nOut(256).activation(Activation.RELU).build())
      .layer(new OutputLayer.Builder(new LossMCXENT()).nOut(10).activation(Activation.SOFTMAX).build())
      .setInputType(InputType.convolutionalFlat(28,28,1)).build();
    MultiLayerNetwork net = new MultiLayerNetwork(conf); net.init();
    System.out.println("onednn layers " + dev.distill.models.network.ConvBackend.DEFAULT.apply(net));
    List<DataSet> batches = new ArrayList<>();
    Random r = new Random(1);
    int batch = Integer.getInteger("batch", 128);
    // -Dfashion=true: the first Fashion-MNIST training images (pixels / 255), whose ReLU signs are as training
    // sees them; random pixels make the sign branches unpredictable
    dev.distill.core.data.LabeledData fashion = Boolean.getBoolean("fashion")
        ? dev.distill.runner.data.Datasets.fashionMnistTrain(dev.distill.runner.data.Datasets.FASHION_MNIST_DIR) : null;
    for (int i = 0; i < 10; i++) {
      INDArray x = fashion != null ? fashion.features().get(org.nd4j.linalg.indexing.NDArrayIndex.interval(i * batch, (i + 1) * batch)).dup()
          : Nd4j.rand(DataType.FLOAT, batch, 784);
      INDArray y = Nd4j.zeros(DataType.FLOAT, batch, 10);
      for (int k = 0; k < batch; k++) y.putScalar(k, fashion != null ? fashion.labels()[i * batch + k] : r.nextInt(10), 1f);
      batches.add(new DataSet(x, y));
    }
    if (Boolean.getBoolean("conv1dl4j")) { try { java.lang.reflect.Field f = org.deeplearning4j.nn.layers.convolution.ConvolutionLayer.class.getDeclaredField("helper"); f.setAccessible(true); f.set(net.getLayer(0), null); } catch (ReflectiveOperationException e) { throw new RuntimeException(e); } }
    // -Dspeedup=true: Adam in Java and lean dense layers (bit for bit DL4J); -Dfewchannel=true: also the first
    // convolution computed in Java (FewChannelConvolution)
    dev.distill.models.network.Network wrapped = dev.distill.models.network.Network.of(net);
    if (Boolean.getBoolean("speedup")) { dev.distill.models.network.JavaAdamUpdater.install(wrapped); dev.distill.models.network.LeanDenseBackprop.install(wrapped); }
    if (Boolean.getBoolean("fewchannel")) System.out.println("java conv layers " + dev.distill.models.network.FewChannelConvolution.install(wrapped));
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    int reps = Integer.parseInt(System.getProperty("reps","5"));
    for (int rep = 0; rep < reps; rep++) {
      long c0 = mx.getCurrentThreadCpuTime(), w0 = System.nanoTime();
      for (DataSet d : batches) net.fit(d);
      long c1 = mx.getCurrentThreadCpuTime(), w1 = System.nanoTime();
      System.out.printf("pass %d: %.3f ms/step wall, %.3f ms/step cpu, %.0f samples/cpu-s%n", rep, (w1-w0)/1e6/10, (c1-c0)/1e6/10, 10.0*batch/((c1-c0)/1e9));
    }
    if (a.length > 0) {
      Nd4j.getExecutioner().setProfilingMode(OpExecutioner.ProfilingMode.OPERATIONS);
      OpProfiler.getInstance().reset();
      for (DataSet d : batches.subList(0, 5)) net.fit(d);
      OpProfiler.getInstance().printOutDashboard();
    }
  }
}
