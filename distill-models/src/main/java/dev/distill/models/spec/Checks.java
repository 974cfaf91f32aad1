package dev.distill.models.spec;

/** Value checks the spec records share. */
final class Checks {

    private Checks() {
    }

    static void positive(String key, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(key + " must be a positive integer, got " + value);
        }
    }
}
