package dev.distill.models.network;

/**
 * Maps the seeds users write to the seeds handed to DL4J and ND4J. Measured on 1.0.0-M2.1: a
 * network built with {@code seed(0)} gets different weights in every process (and twice in one
 * process), while any other seed repeats exactly; so 0, the seed users write most, must never
 * reach them. XOR with a fixed odd constant is a bijection (distinct seeds stay distinct) whose only
 * preimage of 0 is the constant itself.
 */
public final class Seeds {

    private static final long MIX = 0x9E3779B97F4A7C15L;

    private Seeds() {
    }

    /** The seed to give DL4J's configuration and ND4J's random generator for a user's seed. */
    public static long dl4j(long userSeed) {
        return userSeed ^ MIX;
    }
}
