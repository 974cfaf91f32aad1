package dev.distill.runtime;

import java.util.Arrays;

/**
 * How the values of the data files become the network's input: input = raw × scale + shift, for every
 * value (the data source's {@code scale}, e.g. 1/255 for 8-bit pixels), then, when the data is
 * normalized per feature (standardized or min-max scaled on the training split), input[i] × featureScale[i]
 * + featureShift[i]. {@link Model#predict} applies it, so an app passes values exactly as the data files
 * hold them.
 */
public final class Preprocessing {

    /** Nothing to do: the raw values are the network's input. */
    public static final Preprocessing NONE = new Preprocessing(1f, 0f);

    private final float scale;
    private final float shift;
    /** Per feature, after scale and shift; empty when the data is not normalized per feature. */
    private final float[] featureScales;
    private final float[] featureShifts;

    public Preprocessing(float scale, float shift) {
        this(scale, shift, new float[0], new float[0]);
    }

    /**
     * @param featureScales per feature, multiplied after {@code scale} and {@code shift} (empty: none)
     * @param featureShifts per feature, added after {@code featureScales}; as many as they
     */
    public Preprocessing(float scale, float shift, float[] featureScales, float[] featureShifts) {
        if (!Float.isFinite(scale) || !Float.isFinite(shift)) {
            throw new IllegalArgumentException("preprocessing scale " + scale + ", shift " + shift + ": not finite");
        }
        if (featureScales.length != featureShifts.length) {
            throw new IllegalArgumentException("preprocessing: " + featureScales.length + " feature scales but "
                    + featureShifts.length + " feature shifts");
        }
        for (int i = 0; i < featureScales.length; i++) {
            if (!Float.isFinite(featureScales[i]) || !Float.isFinite(featureShifts[i])) {
                throw new IllegalArgumentException("preprocessing of feature " + i + ": scale " + featureScales[i]
                        + ", shift " + featureShifts[i] + ": not finite");
            }
        }
        this.scale = scale;
        this.shift = shift;
        this.featureScales = featureScales.clone();
        this.featureShifts = featureShifts.clone();
    }

    public float scale() {
        return scale;
    }

    public float shift() {
        return shift;
    }

    /** The per-feature factors (a copy; empty when the data is not normalized per feature). */
    public float[] featureScales() {
        return featureScales.clone();
    }

    /** The per-feature offsets (a copy; empty when the data is not normalized per feature). */
    public float[] featureShifts() {
        return featureShifts.clone();
    }

    /** Whether the input is normalized feature by feature. */
    public boolean perFeature() {
        return featureScales.length > 0;
    }

    /** A new array: the network's input for {@code raw}. */
    public float[] apply(float[] raw) {
        if (perFeature() && raw.length != featureScales.length) {
            throw new IllegalArgumentException("the input has " + raw.length + " values; the model's preprocessing "
                    + "normalizes " + featureScales.length + " features");
        }
        float[] x = new float[raw.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = raw[i] * scale + shift;
        }
        for (int i = 0; i < featureScales.length; i++) {
            x[i] = x[i] * featureScales[i] + featureShifts[i];
        }
        return x;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Preprocessing)) {
            return false;
        }
        Preprocessing p = (Preprocessing) o;
        return Float.compare(scale, p.scale) == 0 && Float.compare(shift, p.shift) == 0
                && Arrays.equals(featureScales, p.featureScales) && Arrays.equals(featureShifts, p.featureShifts);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Float.hashCode(scale) + Float.hashCode(shift)) + Arrays.hashCode(featureScales);
    }

    @Override
    public String toString() {
        return "input = raw × " + scale + (shift != 0 ? " + " + shift : "")
                + (perFeature() ? ", then normalized per feature (" + featureScales.length + " scales and shifts)" : "");
    }
}
