package dev.distill.examples;

import dev.distill.runtime.Model;
import dev.distill.runtime.ModelFormatException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Classifies handwritten digits with a distilled student, on nothing but distill-runtime: loads the packed
 * model from the class path, reads 8x8 images (raw pixel values 0..16 and the true label, one per line)
 * and prints the predicted class of each.
 */
public final class DigitsApp {

    private DigitsApp() {
    }

    public static void main(String[] args) throws IOException {
        Model model;
        try (InputStream in = DigitsApp.class.getResourceAsStream("/digits-student.packed")) {
            model = Model.load(in, "digits-student.packed");
        } catch (ModelFormatException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(2);
            return;
        }
        System.out.println("model: input " + Arrays.toString(model.inputShape()) + ", " + model.preprocessing()
                + ", " + model.precision() + " path");
        int right = 0;
        int total = 0;
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(
                DigitsApp.class.getResourceAsStream("/digits-samples.csv"), StandardCharsets.UTF_8))) {
            for (String line; (line = lines.readLine()) != null; ) {
                String[] cells = line.split(",");
                float[] pixels = new float[cells.length - 1];
                for (int i = 0; i < pixels.length; i++) {
                    pixels[i] = Float.parseFloat(cells[i]);
                }
                int label = Integer.parseInt(cells[cells.length - 1].trim());
                float[] p = model.predict(pixels);
                int digit = Model.argmax(p);
                System.out.printf("image %d: class %d (p = %.3f), label %d%n", total, digit, p[digit], label);
                right += digit == label ? 1 : 0;
                total++;
            }
        }
        System.out.printf("%d of %d right%n", right, total);
    }
}
