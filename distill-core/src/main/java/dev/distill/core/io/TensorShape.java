package dev.distill.core.io;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * A tensor's shape as the project's own model files store it (the sparse and the packed format):
 * the rank as one unsigned byte, then each dimension as a 32-bit integer.
 */
public final class TensorShape {

    private TensorShape() {
    }

    public static void write(DataOutputStream out, long[] shape) throws IOException {
        out.writeByte(shape.length);
        for (long d : shape) {
            out.writeInt((int) d);
        }
    }

    /**
     * Reads a shape and refuses one no tensor can have (a negative dimension, or more elements than a
     * Java array holds), so a damaged file fails here and not in an allocation.
     *
     * @param tensor the tensor's name, for the message
     */
    public static long[] read(DataInputStream in, String tensor) throws IOException {
        long[] shape = new long[in.readUnsignedByte()];
        long n = 1;
        for (int d = 0; d < shape.length; d++) {
            shape[d] = in.readInt();
            n *= shape[d];
            if (shape[d] < 0 || n > Integer.MAX_VALUE) {
                throw new IOException("tensor " + tensor + ": impossible shape");
            }
        }
        return shape;
    }

    /** The number of elements of a shape {@link #read} accepted. */
    public static int elements(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return (int) n;
    }
}
