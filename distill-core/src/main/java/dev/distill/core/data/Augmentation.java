package dev.distill.core.data;

/**
 * Random changes to each training image, fresh every epoch: translation by up to {@code shift} pixels
 * in each direction (the uncovered border filled with zeros), a horizontal flip with probability 1/2,
 * and mixup (each example blended with another of the same batch, labels alike, with a weight drawn
 * from Beta(alpha, alpha) per batch; 0 turns it off).
 *
 * <p>Why it belongs to distillation: with augmentation a distilled student is taught on the teacher's
 * targets for the very view it sees ("function matching", Beyer et al. 2022), which labels alone
 * cannot give. A flip suits Fashion-MNIST (a mirrored shoe is a shoe) but not digits or text.
 *
 * @param shift largest translation in pixels along each axis, {@code >= 0}
 * @param flip  whether to mirror half the images left to right
 * @param mixup mixup's alpha, {@code >= 0}; 0 leaves examples unmixed
 */
public record Augmentation(int shift, boolean flip, double mixup) {

    /** No augmentation: the trainer feeds the stored examples unchanged. */
    public static final Augmentation NONE = new Augmentation(0, false, 0);

    public Augmentation {
        if (shift < 0) {
            throw new IllegalArgumentException("shift must be a non-negative number of pixels, got " + shift);
        }
        if (!(mixup >= 0) || Double.isInfinite(mixup)) {
            throw new IllegalArgumentException("mixup must be a non-negative alpha (0: off), got " + mixup);
        }
    }

    /** Whether anything changes the examples. */
    public boolean active() {
        return shift > 0 || flip || mixup > 0;
    }

    /** Whether a transformation needs the image's height and width (mixup does not). */
    public boolean spatial() {
        return shift > 0 || flip;
    }

    @Override
    public String toString() {
        if (!active()) {
            return "none";
        }
        StringBuilder s = new StringBuilder();
        if (shift > 0) {
            s.append("shift ").append(shift);
        }
        if (flip) {
            s.append(s.length() > 0 ? ", " : "").append("flip");
        }
        if (mixup > 0) {
            s.append(s.length() > 0 ? ", " : "").append("mixup ").append(mixup);
        }
        return s.toString();
    }
}
