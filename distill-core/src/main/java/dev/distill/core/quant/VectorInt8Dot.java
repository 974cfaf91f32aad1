package dev.distill.core.quant;

import dev.distill.runtime.Int8Dot;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Σ w·x over int8 codes on the Vector API: as many bytes as the preferred int vector has lanes are
 * loaded, sign-extended to ints, multiplied and added lane-wise, and the lanes summed once at the end.
 * Integer addition is associative, so the result equals the scalar loop's exactly. It stays in
 * distill-core because distill-runtime compiles for Java 11, which has no Vector API; the runtime finds it
 * as a {@link java.util.ServiceLoader} provider ({@code META-INF/services}) when this module is on the
 * class path and the JVM has {@code --add-modules jdk.incubator.vector}, through {@link Int8Dot#vector()}.
 */
public final class VectorInt8Dot implements Int8Dot {

    private static final VectorSpecies<Integer> INTS = IntVector.SPECIES_PREFERRED;
    // one byte per int lane: a quarter of the int vector's width (128 bits for AVX-512, 64 for AVX2)
    private static final VectorSpecies<Byte> BYTES = VectorSpecies.of(byte.class,
            VectorShape.forBitSize(Math.max(64, INTS.vectorBitSize() / 4)));

    public VectorInt8Dot() {
        if (BYTES.length() != INTS.length()) {
            // 128-bit int vectors (no AVX2): the loop below would not pay; the scalar kernel serves
            throw new UnsupportedOperationException("int vectors of " + INTS.vectorBitSize() + " bits");
        }
    }

    @Override
    public int dot(byte[] w, int offset, byte[] x, int n) {
        IntVector acc = IntVector.zero(INTS);
        int step = BYTES.length();
        int i = 0;
        for (int bound = BYTES.loopBound(n); i < bound; i += step) {
            IntVector a = (IntVector) ByteVector.fromArray(BYTES, w, offset + i)
                    .convertShape(VectorOperators.B2I, INTS, 0);
            IntVector b = (IntVector) ByteVector.fromArray(BYTES, x, i).convertShape(VectorOperators.B2I, INTS, 0);
            acc = acc.add(a.mul(b));
        }
        int sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += w[offset + i] * x[i];
        }
        return sum;
    }

    @Override
    public String name() {
        return "vector";
    }
}
