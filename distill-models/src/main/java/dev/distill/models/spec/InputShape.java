package dev.distill.models.spec;

/**
 * The shape of one example as the network sees it. Data is always held flat ({@code [n, size]});
 * an image shape says how to fold it back into {@code channels × height × width} (channels first,
 * each channel row-major), as DL4J's {@code InputType.convolutionalFlat} does, for convolutional layers.
 */
public record InputShape(int height, int width, int channels, boolean image) {

    public InputShape {
        if (height < 1 || width < 1 || channels < 1) {
            throw new IllegalArgumentException(
                    "input shape must be positive, got " + height + "x" + width + "x" + channels);
        }
        if (!image && (height != 1 || width != 1)) {
            throw new IllegalArgumentException("a flat input has height and width 1");
        }
    }

    public static InputShape image(int height, int width, int channels) {
        return new InputShape(height, width, channels, true);
    }

    public static InputShape flat(int size) {
        return new InputShape(1, 1, size, false);
    }

    /** Number of values in one example. */
    public int size() {
        return height * width * channels;
    }

    @Override
    public String toString() {
        return image ? height + "x" + width + "x" + channels : "flat " + channels;
    }
}
