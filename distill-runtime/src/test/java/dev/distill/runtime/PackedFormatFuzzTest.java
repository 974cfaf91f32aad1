package dev.distill.runtime;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;

/**
 * Damaged and hostile files: truncations at many offsets, flipped bytes, huge declared counts and bytes
 * inserted (each with the length and checksum made right again, so that the parser itself meets the
 * damage), and foreign files. Every one must end in one {@link ModelFormatException} of one line naming
 * the source, or (a flipped weight can still be a valid file) load and run; never another exception, an
 * OutOfMemoryError (surefire runs this module with -Xmx512m) or a hang.
 */
class PackedFormatFuzzTest {

    /** Real packed files: the runtime's test models of every op and encoding, and the example app's digits student. */
    private static List<byte[]> seeds() throws Exception {
        List<byte[]> seeds = new ArrayList<>();
        seeds.add(TestModels.packed(TestModels.mlp(1, 3), true));
        seeds.add(TestModels.packed(TestModels.mlp(2, 1), false));
        seeds.add(TestModels.packed(TestModels.cnn(3), true));
        seeds.add(TestModels.packed(TestModels.graph(4), false));
        Path example = Path.of("../examples/digits-app/src/main/resources/digits-student.packed");
        if (Files.isRegularFile(example)) {
            seeds.add(Files.readAllBytes(example));
        }
        return seeds;
    }

    /** The length field and checksum recomputed, so the damage gets past them. */
    private static byte[] resealed(byte[] body) {
        if (body.length < 18) {
            return body;
        }
        byte[] b = body.clone();
        ByteBuffer.wrap(b, 10, 4).putInt(b.length);
        CRC32 crc = new CRC32();
        crc.update(b, 0, b.length - 4);
        ByteBuffer.wrap(b, b.length - 4, 4).putInt((int) crc.getValue());
        return b;
    }

    @Test
    void everyMutationEndsInOneLineErrorOrAWorkingModel() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            Random r = new Random(2024);
            List<byte[]> mutants = new ArrayList<>();
            for (byte[] seed : seeds()) {
                for (int k = 0; k < 60; k++) {
                    int cut = 1 + r.nextInt(seed.length - 1);
                    mutants.add(Arrays.copyOf(seed, cut));                            // plain truncation
                    mutants.add(resealed(Arrays.copyOf(seed, Math.max(18, cut + 4)))); // truncated body, resealed
                }
                for (int k = 0; k < 120; k++) {
                    byte[] flipped = seed.clone();
                    flipped[14 + r.nextInt(seed.length - 18)] ^= (byte) (1 + r.nextInt(255));
                    mutants.add(k % 4 == 0 ? flipped : resealed(flipped));
                }
                for (int k = 0; k < 60; k++) {
                    // a huge varint (2^31 - 1, or 2^28) written over the body, or inserted into it
                    byte[] huge = k % 2 == 0 ? new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x07}
                            : new byte[] {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x01};
                    int at = 14 + r.nextInt(seed.length - 23);
                    byte[] over = seed.clone();
                    System.arraycopy(huge, 0, over, at, huge.length);
                    mutants.add(resealed(over));
                    byte[] inserted = new byte[seed.length + huge.length];
                    System.arraycopy(seed, 0, inserted, 0, at);
                    System.arraycopy(huge, 0, inserted, at, huge.length);
                    System.arraycopy(seed, at, inserted, at + huge.length, seed.length - at);
                    mutants.add(resealed(inserted));
                }
            }
            byte[] random = new byte[4096];
            r.nextBytes(random);
            mutants.add(new byte[0]);
            mutants.add(random);
            mutants.add("PK\u0003\u0004 a zip, not a model".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            mutants.add("DSTLPACK".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            mutants.add("DSTLSPRS sparse, not packed".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            byte[] v2 = seeds().get(0).clone();
            v2[9] = 2;
            mutants.add(v2);
            byte[] hugeHeader = resealed(Arrays.copyOf(seeds().get(0), 64));
            mutants.add(hugeHeader);

            assertTrue(mutants.size() >= 1000, mutants.size() + " mutations");
            int refused = 0;
            for (int i = 0; i < mutants.size(); i++) {
                String source = "mutant-" + i + ".packed";
                try {
                    Model m = Model.of(PackedFormat.read(mutants.get(i), source), source);
                    m.withPrecision(Precision.FLOAT32).predict(new float[m.inputSize()]);
                    if (m.supports(Precision.INT8)) {
                        m.withPrecision(Precision.INT8).predict(new float[m.inputSize()]);
                    }
                } catch (ModelFormatException e) {
                    refused++;
                    assertTrue(e.getMessage().startsWith(source + ": "), e.getMessage());
                    assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
                }
            }
            // most flips land in weight codes or floats, which stay a valid file (with three seed files, before
            // the graph and the example app's model joined: 703 of 1,087 refused)
            assertTrue(refused > 0.5 * mutants.size(), refused + " of " + mutants.size() + " refused");
        });
    }
}
