package dev.distill.models.nd4j;

import java.lang.ref.Reference;
import java.util.List;
import java.util.function.Supplier;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.BroadcastOp;
import org.nd4j.linalg.api.ops.CustomOp;
import org.nd4j.linalg.api.ops.IndexAccumulation;
import org.nd4j.linalg.api.ops.Op;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.api.ops.RandomOp;
import org.nd4j.linalg.api.ops.ReduceOp;
import org.nd4j.linalg.api.ops.ScalarOp;
import org.nd4j.linalg.api.ops.impl.scatter.ScatterUpdate;
import org.nd4j.linalg.api.ops.impl.summarystats.Variance;
import org.nd4j.linalg.api.rng.Random;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;
import org.nd4j.linalg.cpu.nativecpu.ops.NativeOpExecutioner;

/**
 * ND4J's CPU executioner with every op kept alive until its native call has returned.
 *
 * <p>Why this exists (the SIGSEGV in {@code sd::DataBuffer::primary()} of issue 16): in ND4J
 * 1.0.0-M2.1 an op's dimension array ({@code BaseOp.dimensions()}, e.g. the {@code [1]} of every
 * {@code addiRowVector} a dense layer does to add its bias) is created outside any workspace, so only
 * the garbage collector frees it: when the op object becomes unreachable, ND4J's deallocator thread
 * deletes the native buffer. {@code NativeOpExecutioner.exec(BroadcastOp, OpContext)} reads the
 * op's buffers into the arguments of the JNI call and never touches {@code op} again (it returns a
 * local), so the JIT may treat the op as dead while the native code still runs. A collection in
 * that window (frequent under memory pressure, or with two JVMs on two cores) lets the deallocator
 * free the dimension buffer under the running kernel. {@link Reference#reachabilityFence} after
 * each call is the JDK's own tool for exactly this: the op, and everything it references, stays
 * reachable until the native code is done. The fence itself emits no instruction (it only stops the JIT
 * from ending the op's life early); what each call adds is one small lambda.
 *
 * <p>Installed by {@link NativeSafety#install()} through ND4J's own {@code opexec} setting.
 */
public class FencedOpExecutioner extends NativeOpExecutioner {

    @Override
    public INDArray exec(Op op) {
        return fenced(() -> super.exec(op), op, null);
    }

    @Override
    public INDArray exec(Op op, OpContext context) {
        return fenced(() -> super.exec(op, context), op, context);
    }

    @Override
    public INDArray exec(IndexAccumulation op) {
        return fenced(() -> super.exec(op), op, null);
    }

    @Override
    public INDArray exec(IndexAccumulation op, OpContext context) {
        return fenced(() -> super.exec(op, context), op, context);
    }

    @Override
    public INDArray exec(Variance op) {
        return fenced(() -> super.exec(op), op, null);
    }

    @Override
    public INDArray exec(ReduceOp op) {
        return fenced(() -> super.exec(op), op, null);
    }

    @Override
    public INDArray exec(ReduceOp op, OpContext context) {
        return fenced(() -> super.exec(op, context), op, context);
    }

    @Override
    public INDArray exec(ScalarOp op) {
        return fenced(() -> super.exec(op), op, null);
    }

    @Override
    public INDArray exec(ScalarOp op, OpContext context) {
        return fenced(() -> super.exec(op, context), op, context);
    }

    @Override
    public INDArray exec(BroadcastOp op) {
        return fenced(() -> super.exec(op), op, null);
    }

    @Override
    public INDArray exec(BroadcastOp op, OpContext context) {
        return fenced(() -> super.exec(op, context), op, context);
    }

    @Override
    public INDArray exec(RandomOp op) {
        return fenced(() -> super.exec(op), op, null);
    }

    @Override
    public INDArray exec(RandomOp op, Random rng) {
        return fenced(() -> super.exec(op, rng), op, rng);
    }

    @Override
    public INDArray exec(RandomOp op, OpContext context, Random rng) {
        return fenced(() -> super.exec(op, context, rng), op, context);
    }

    @Override
    public INDArray[] exec(CustomOp op) {
        return fenced(() -> super.exec(op), op, null);
    }

    @Override
    public INDArray[] exec(CustomOp op, OpContext context) {
        return fenced(() -> super.exec(op, context), op, context);
    }

    @Override
    public List<LongShapeDescriptor> calculateOutputShape(CustomOp op) {
        return fenced(() -> super.calculateOutputShape(op), op, null);
    }

    @Override
    public List<LongShapeDescriptor> calculateOutputShape(CustomOp op, OpContext context) {
        return fenced(() -> super.calculateOutputShape(op, context), op, context);
    }

    @Override
    public void scatterUpdate(ScatterUpdate.UpdateOp op, INDArray array, INDArray indices, INDArray updates,
            int[] axis) {
        fenced(() -> fenced(() -> {
            super.scatterUpdate(op, array, indices, updates, axis);
            return null;
        }, array, indices), updates, null);
    }

    /** Runs {@code call}, with {@code op} and {@code context} (either may be null) reachable until it has returned. */
    private static <T> T fenced(Supplier<T> call, Object op, Object context) {
        try {
            return call.get();
        } finally {
            Reference.reachabilityFence(op);
            Reference.reachabilityFence(context);
        }
    }
}
