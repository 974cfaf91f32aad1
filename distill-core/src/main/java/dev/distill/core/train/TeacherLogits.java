package dev.distill.core.train;

import dev.distill.core.DistillException;
import dev.distill.core.infer.ConvRuntime;
import dev.distill.models.network.Network;
import java.util.Deque;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A teacher's logits (the output layer's input to softmax) for a whole data set, computed once so
 * that distilling a student costs about as much as training it alone (per batch, the teacher
 * would cost a forward pass every step of every epoch); or, for augmented training, computed per
 * batch by a {@link Live} teacher.
 */
public final class TeacherLogits {

    /**
     * Rows per forward pass. A part of the inputs that starts at a multiple of it gets the same floats
     * as the whole (the same batches): what a cluster's partitions of the training set rely on.
     */
    public static final int BATCH = 512;

    private TeacherLogits() {
    }

    /** Logits {@code [n, classes]} in float, in inference mode. */
    public static INDArray compute(MultiLayerNetwork teacher, INDArray features) {
        MultiLayerNetwork logitsNet = withIdentityOutput(teacher);
        return compute(Network.of(logitsNet), logitsNet.layerSize(logitsNet.getnLayers() - 1), features);
    }

    /** As {@link #compute(MultiLayerNetwork, INDArray)}, for either kind of network. */
    public static INDArray compute(Network teacher, INDArray features) {
        if (teacher instanceof Network.Sequential s) {
            return compute(s.net(), features);
        }
        Network.Graph logitsNet = withIdentityOutput((Network.Graph) teacher);
        long classes = logitsNet.output(features.get(NDArrayIndex.interval(0, 1), NDArrayIndex.all())).columns();
        return compute(logitsNet, classes, features);
    }

    /**
     * A frozen teacher's logits for one batch at a time, for training on augmented views whose targets
     * cannot be cached. A sequential teacher is compiled with {@link ConvRuntime} (a small CNN's forward
     * pass several times faster than DL4J's {@code output()}); what the runtime refuses, and graph
     * teachers, go through DL4J. Either way each thread computing at once gets a copy of its own
     * ({@link Live#concurrent}).
     */
    public static Live live(Network teacher) {
        if (teacher instanceof Network.Sequential s) {
            MultiLayerNetwork logitsNet = withIdentityOutput(s.net());
            try {
                ConvRuntime first = ConvRuntime.compile(logitsNet);
                return Live.concurrent("compiled runtime", first::output,
                        () -> ConvRuntime.compile(logitsNet)::output);
            } catch (IllegalArgumentException e) {
                return Live.concurrent("DL4J output() (" + e.getMessage() + ")", logitsNet::output,
                        () -> withIdentityOutput(s.net())::output);
            }
        }
        Network.Graph graph = (Network.Graph) teacher;
        return Live.concurrent("DL4J output()", withIdentityOutput(graph)::output,
                () -> withIdentityOutput(graph)::output);
    }

    /** The graph with its output layer's softmax replaced by the identity: its outputs are logits. */
    private static Network.Graph withIdentityOutput(Network.Graph teacher) {
        try {
            return teacher.withOutput(Activation.IDENTITY.getActivationFunction(), null);
        } catch (IllegalArgumentException e) {
            throw new DistillException("the teacher must end in an output layer to give logits: " + e.getMessage(), e);
        }
    }

    /**
     * A teacher computing logits on demand; {@link #how()} says which engine does it. Built from one forward
     * function it is called by one thread at a time; built {@link #concurrent} it may be called by several at
     * once, each call on a copy of the teacher no other call is using (made when all are busy, kept for the
     * next call): what lets augmented batches be prepared on several threads.
     */
    public static final class Live {
        private final String how;
        /** Makes another copy of the forward pass; null when there is only the one. */
        private final Supplier<UnaryOperator<INDArray>> copy;
        /** The copies no call is using; the one forward pass when there is no {@link #copy}. */
        private final Deque<UnaryOperator<INDArray>> idle = new ConcurrentLinkedDeque<>();

        /** A teacher whose {@code forward} gives logits for a batch; {@code how} names the engine (for messages). */
        public Live(String how, UnaryOperator<INDArray> forward) {
            this(how, forward, null);
        }

        private Live(String how, UnaryOperator<INDArray> forward, Supplier<UnaryOperator<INDArray>> copy) {
            this.how = how;
            this.copy = copy;
            idle.push(Objects.requireNonNull(forward, "forward"));
        }

        /**
         * A teacher that several threads may call at once: {@code first} computes the first call's logits and
         * {@code copy} makes another forward pass, sharing no state with the others, whenever every one made so far
         * is in use.
         */
        public static Live concurrent(String how, UnaryOperator<INDArray> first,
                Supplier<UnaryOperator<INDArray>> copy) {
            return new Live(how, first, Objects.requireNonNull(copy, "copy"));
        }

        /** Whether several threads may call {@link #logits} at once. */
        public boolean concurrent() {
            return copy != null;
        }

        /** Logits {@code [b, classes]} in float for the inputs {@code [b, d]}. */
        public INDArray logits(INDArray features) {
            if (copy == null) {
                return idle.peek().apply(features).castTo(DataType.FLOAT);
            }
            UnaryOperator<INDArray> forward = idle.poll();
            if (forward == null) {
                forward = copy.get();
            }
            try {
                return forward.apply(features).castTo(DataType.FLOAT);
            } finally {
                idle.push(forward);
            }
        }

        public String how() {
            return how;
        }
    }

    private static INDArray compute(Network logitsNet, long classes, INDArray features) {
        long n = features.rows();
        INDArray logits = Nd4j.create(DataType.FLOAT, n, classes);
        for (long start = 0; start < n; start += BATCH) {
            long end = Math.min(n, start + BATCH);
            INDArray batch = features.get(NDArrayIndex.interval(start, end), NDArrayIndex.all());
            logits.get(NDArrayIndex.interval(start, end), NDArrayIndex.all())
                    .assign(logitsNet.output(batch).castTo(DataType.FLOAT));
        }
        return logits;
    }

    /**
     * The same network with the softmax of its output layer replaced by the identity, sharing no
     * state with the original. Softmax is shift-invariant, so log-probabilities would also do, but
     * they lose precision where the teacher is confident; the raw logits do not.
     */
    static MultiLayerNetwork withIdentityOutput(MultiLayerNetwork teacher) {
        MultiLayerConfiguration conf = teacher.getLayerWiseConfigurations().clone();
        Layer last = conf.getConf(conf.getConfs().size() - 1).getLayer();
        if (!(last instanceof BaseOutputLayer output)) {
            throw new DistillException("the teacher's last layer must be an output layer to give logits, found "
                    + last.getClass().getSimpleName());
        }
        output.setActivationFn(Activation.IDENTITY.getActivationFunction());
        conf.setValidateOutputLayerConfig(false);
        MultiLayerNetwork copy = new MultiLayerNetwork(conf);
        copy.init(teacher.params().dup(), false);
        // a new network: its conv layers need the oneDNN helpers again, or the pass takes 4x as long
        dev.distill.models.network.ConvBackend.DEFAULT.apply(copy);
        return copy;
    }
}
