import jdk.incubator.vector.*;
/**
 * 3,840 exponentials (a batch of 128 x 10 through the distillation loss's three softmaxes) by Math.exp and by the
 * Vector API's EXP, microseconds, and how many of the results differ:
 *
 *   java --add-modules jdk.incubator.vector tools/profile/VectorExp.java
 */
public class VectorExp {
  static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;
  public static void main(String[] a) {
    double[] x = new double[3840]; java.util.Random r = new java.util.Random(1);
    for (int i = 0; i < x.length; i++) x[i] = -r.nextDouble() * 8;
    double[] y = new double[x.length], z = new double[x.length];
    for (int rep = 0; rep < 10; rep++) {
      long t = System.nanoTime();
      for (int k = 0; k < 1000; k++) for (int i = 0; i < x.length; i++) y[i] = Math.exp(x[i]);
      long t1 = System.nanoTime();
      for (int k = 0; k < 1000; k++) { int i = 0; for (; i < S.loopBound(x.length); i += S.length()) DoubleVector.fromArray(S, x, i).lanewise(VectorOperators.EXP).intoArray(z, i); for (; i < x.length; i++) z[i] = Math.exp(x[i]); }
      long t2 = System.nanoTime();
      int diff = 0; double maxrel = 0; for (int i = 0; i < x.length; i++) { if (y[i] != z[i]) diff++; maxrel = Math.max(maxrel, Math.abs(y[i]-z[i])/y[i]); }
      System.out.printf("Math.exp %.1f us, vector(%d lanes) %.1f us, %d of %d differ, max rel %.1e%n", (t1 - t) / 1e3 / 1000, S.length(), (t2 - t1) / 1e3 / 1000, diff, x.length, maxrel);
    }
  }
}
