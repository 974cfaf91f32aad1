package dev.distill.core.modelfile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.DistillException;
import dev.distill.core.data.LabeledData;
import dev.distill.core.io.ModelFileCheck;
import dev.distill.core.io.ModelFiles;
import dev.distill.core.quant.PackedModelFile;
import dev.distill.runtime.Preprocessing;
import dev.distill.core.prune.MagnitudePruner;
import dev.distill.core.prune.Prunable;
import dev.distill.core.prune.SparseModelFile;
import dev.distill.core.testing.TinyData;
import dev.distill.models.network.NetworkFactory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.Inflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.Adam;

/**
 * Thousands of mutations of real model files (a small trained net written as a {@code .sparse} file,
 * as a DL4J zip and as a {@code .packed} file), all read through the one door, {@link ModelReader}: truncations at every offset, byte flips, huge declared counts and sizes with the
 * checksums recomputed, crafted configurations, foreign files. Each must load (a harmless mutation,
 * counted) or end in one {@link DistillException} of one line naming the file; never another
 * exception, never an {@code OutOfMemoryError}, never a hang.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ModelReaderFuzzTest {

    @TempDir
    static Path dir;

    static byte[] sparse;
    static byte[] zip;
    static byte[] packed;
    static INDArray original;
    /** The packed file's class scores for {@link #PROBE}, as written. */
    static INDArray packedScores;
    static final float[] PROBE = {0.5f, -1f, 2f, 0f, 1f, -0.5f};

    @BeforeAll
    static void writeRealFiles() throws IOException {
        LabeledData data = TinyData.blobs(120, 6, 3, 5);
        MultiLayerNetwork net = NetworkFactory.build(TinyData.mlp(8, 3), TinyData.flat(6), new Adam(1e-2), 0, 7);
        for (int i = 0; i < 10; i++) {
            net.fit(data.features(), data.oneHot());
        }
        // pruned, so that the file holds CSR/CSC tensors as well as dense ones
        MagnitudePruner.masks(net, Prunable.of(net, false, false), MagnitudePruner.Scope.LAYER, 0.7).applyTo(net);
        Path s = dir.resolve("real.sparse");
        Path z = dir.resolve("real.zip");
        SparseModelFile.write(net, s);
        ModelFiles.saveForShipping(net, z);
        Path p = dir.resolve("real.packed");
        PackedModelFile.write(net, List.of(), List.of(), false, Preprocessing.NONE, List.of(), p);
        original = net.params().dup();
        sparse = Files.readAllBytes(s);
        zip = Files.readAllBytes(z);
        packed = Files.readAllBytes(p);
        packedScores = scores(p);
    }

    /** Reads a file as the product would, returning what it holds. */
    @FunctionalInterface
    interface Loader {
        INDArray load(Path file) throws Exception;
    }

    /** Outcomes of one format's mutations. */
    static final class Tally {
        final String format;
        int tried;
        int refused;
        int loaded;
        int loadedIdentical;
        final List<String> failures = new ArrayList<>();
        final Map<String, Integer> messages = new LinkedHashMap<>();
        long slowestNanos;
        String slowest;

        final String extension;
        final Loader loader;
        final INDArray expected;

        Tally(String format) {
            this(format, format.equals("zip") ? ".zip" : ".sparse",
                    file -> ModelReader.network(file).params(), original);
        }

        Tally(String format, String extension, Loader loader, INDArray expected) {
            this.format = format;
            this.extension = extension;
            this.loader = loader;
            this.expected = expected;
        }

        /** A mutation that kept the checksums: if the file loads, it must be the network written. */
        void load(String what, byte[] bytes) {
            load(what, bytes, false);
        }

        /** @param crafted whether checksums were recomputed (a crafted file may load as a different network) */
        void load(String what, byte[] bytes, boolean crafted) {
            Path file = dir.resolve(format + "-" + tried + extension);
            try {
                Files.write(file, bytes);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            tried++;
            long start = System.nanoTime();
            try {
                INDArray params = loader.load(file);
                if (!crafted && !params.equals(expected)) {
                    failures.add(what + ": loaded, but not the network that was written");
                } else {
                    loaded++;
                    loadedIdentical += params.equals(expected) ? 1 : 0;
                }
            } catch (DistillException e) {
                String m = e.getMessage();
                if (m.contains("\n") || !m.startsWith(file.toString())) {
                    failures.add(what + ": not one line naming the file: " + m);
                } else {
                    refused++;
                    String kind = m.substring(file.toString().length()).replaceAll("[0-9]+", "N");
                    kind = kind.length() > 70 ? kind.substring(0, 70) : kind;
                    messages.merge(kind, 1, Integer::sum);
                }
            } catch (Throwable e) {
                failures.add(what + ": " + e);
            } finally {
                if (System.nanoTime() - start > slowestNanos) {
                    slowestNanos = System.nanoTime() - start;
                    slowest = what;
                }
                try {
                    Files.delete(file);
                } catch (IOException ignored) {
                    // the temporary directory goes anyway
                }
            }
        }

        void report() {
            System.out.printf("fuzz %s: %d tried, %d refused with one line, %d loaded (%d the very content written, "
                    + "%d crafted with checksums recomputed but valid), %d failures; slowest %.0f ms (%s)%n", format,
                    tried, refused, loaded, loadedIdentical, loaded - loadedIdentical, failures.size(),
                    slowestNanos / 1e6, slowest);
            messages.entrySet().stream().sorted((a, b) -> b.getValue() - a.getValue()).limit(12)
                    .forEach(e -> System.out.printf("  %5d %s%n", e.getValue(), e.getKey()));
            failures.stream().limit(10).forEach(f -> System.out.println("  FAILURE " + f));
        }
    }

    // ---- the sparse format: magic (8), version (2), body length (4), deflated body, CRC-32 (4)

    static final int BODY_LENGTH_AT = 10;
    static final int DEFLATED_AT = 14;

    static byte[] inflateBody(byte[] file) throws Exception {
        int length = ByteBuffer.wrap(file, BODY_LENGTH_AT, 4).getInt();
        Inflater inflater = new Inflater();
        inflater.setInput(file, DEFLATED_AT, file.length - 4 - DEFLATED_AT);
        byte[] body = new byte[length];
        inflater.inflate(body);
        inflater.end();
        return body;
    }

    /** A sparse file around {@code body}, with the given declared length and a correct CRC. */
    static byte[] sparseFile(byte[] body, int declaredLength) {
        Deflater deflater = new Deflater();
        deflater.setInput(body);
        deflater.finish();
        ByteArrayOutputStream deflated = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        while (!deflater.finished()) {
            deflated.write(buffer, 0, deflater.deflate(buffer));
        }
        deflater.end();
        ByteBuffer out = ByteBuffer.allocate(DEFLATED_AT + deflated.size() + 4);
        out.put(sparse, 0, BODY_LENGTH_AT).putInt(declaredLength).put(deflated.toByteArray());
        return withCrc(out.array());
    }

    /** Recomputes the trailing CRC-32 of a sparse file. */
    static byte[] withCrc(byte[] file) {
        CRC32 crc = new CRC32();
        crc.update(file, 0, file.length - 4);
        ByteBuffer.wrap(file, file.length - 4, 4).putInt((int) crc.getValue());
        return file;
    }

    static final int[] HUGE = {0x7FFFFFFF, 0xFFFFFFFF, 0x80000000, 46_340, 65_536, 1 << 24, 1 << 30};

    @Test
    void everyMutatedSparseFileLoadsOrIsRefusedInOneLine() throws Exception {
        Tally t = new Tally("sparse");
        Random random = new Random(16);
        t.load("the real file", sparse);
        assertEquals(1, t.loaded, "the unmutated file loads");
        // truncations at every offset
        for (int n = 0; n < sparse.length; n++) {
            t.load("truncated to " + n, java.util.Arrays.copyOf(sparse, n));
        }
        // byte flips (the CRC catches them) and flips with the CRC recomputed (the parser must)
        for (int i = 0; i < 600; i++) {
            byte[] b = sparse.clone();
            b[random.nextInt(b.length)] ^= (byte) (1 + random.nextInt(255));
            t.load("flip " + i, b);
            t.load("flip " + i + ", CRC recomputed", withCrc(b.clone()), true);
        }
        // the declared body length: huge, negative, off by one, with the CRC recomputed
        byte[] body = inflateBody(sparse);
        for (int declared : new int[] {0x7FFFFFFF, 0xFFFFFFFF, 0x80000000, body.length + 1, body.length - 1, 0,
            1 << 28}) {
            t.load("body length " + declared, sparseFile(body, declared), true);
        }
        // inside the body (checksum recomputed): huge counts at every offset outside the JSON, random
        // flips, truncations, and crafted layer sizes in the configuration
        int jsonEnd = 4 + ByteBuffer.wrap(body, 0, 4).getInt();
        for (int at = 0; at + 4 <= body.length; at = at < 4 ? at + 1 : at < jsonEnd ? jsonEnd : at + 1) {
            int huge = HUGE[random.nextInt(HUGE.length)];
            byte[] b = body.clone();
            ByteBuffer.wrap(b, at, 4).putInt(huge);
            t.load("body int " + huge + " at " + at, sparseFile(b), true);
            byte[] c = body.clone();
            c[at] = (byte) (random.nextBoolean() ? 0xFF : random.nextInt(256));
            t.load("body byte at " + at, sparseFile(c), true);
        }
        for (int i = 0; i < 300; i++) {
            int n = random.nextInt(body.length);
            t.load("body cut to " + n, sparseFile(java.util.Arrays.copyOf(body, n), n), true);
        }
        String json = new String(body, 4, jsonEnd - 4, StandardCharsets.UTF_8);
        for (String replacement : new String[] {"46340", "2147483647", "-1", "0", "1000000"}) {
            for (String field : new String[] {"\"nin\" : ", "\"nout\" : "}) {
                String crafted = json.replaceAll(java.util.regex.Pattern.quote(field) + "[0-9]+",
                        field + replacement);
                t.load(field + replacement, sparseFile(sparseBody(crafted, body, jsonEnd)), true);
            }
        }
        foreign(t);
        t.report();
        assertTrue(t.failures.isEmpty(), t.failures.size() + " mutations not handled, first: "
                + (t.failures.isEmpty() ? "" : t.failures.get(0)));
        assertTrue(t.tried >= 3000, "thousands of mutations, got " + t.tried);
    }

    private static byte[] sparseBody(String json, byte[] body, int jsonEnd) {
        byte[] j = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(4 + j.length + body.length - jsonEnd);
        b.putInt(j.length).put(j).put(body, jsonEnd, body.length - jsonEnd);
        return b.array();
    }

    private static byte[] sparseFile(byte[] body) {
        return sparseFile(body, body.length);
    }

    /** Files of no model format at all, under a model's name. */
    private static void foreign(Tally t) throws IOException {
        t.load("empty", new byte[0]);
        t.load("/etc/passwd-like text", "root:x:0:0:root:/root:/bin/bash\n".getBytes(StandardCharsets.UTF_8));
        t.load("a PNG header", new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 0, 0, 13});
        t.load("magic only", "DSTLSPRS".getBytes(StandardCharsets.US_ASCII));
        t.load("zeros", new byte[4096]);
        Random random = new Random(3);
        for (int i = 0; i < 50; i++) {
            byte[] noise = new byte[1 + random.nextInt(5000)];
            random.nextBytes(noise);
            if (i % 2 == 0) {
                byte[] magic = t.format.equals("zip") ? new byte[] {'P', 'K', 3, 4}
                        : (t.format.equals("packed") ? "DSTLPACK" : "DSTLSPRS").getBytes(StandardCharsets.US_ASCII);
                System.arraycopy(magic, 0, noise, 0, Math.min(noise.length, magic.length));
            }
            t.load("noise " + i, noise);
        }
        t.load("a zip of something else", zipOf(Map.of("readme.txt", "hello".getBytes(StandardCharsets.UTF_8))));
        t.load("an empty zip", zipOf(Map.of()));
        t.load("the other format", t.format.equals("zip") ? sparse : zip);
    }

    // ---- DL4J's zip

    static Map<String, byte[]> entries(byte[] zipBytes) throws IOException {
        Path f = dir.resolve("entries.zip");
        Files.write(f, zipBytes);
        Map<String, byte[]> entries = new LinkedHashMap<>();
        try (ZipFile z = new ZipFile(f.toFile())) {
            for (ZipEntry e : java.util.Collections.list(z.entries())) {
                entries.put(e.getName(), z.getInputStream(e).readAllBytes());
            }
        }
        return entries;
    }

    /** A zip of the given entries, written by java.util.zip (CRCs and sizes correct). */
    static byte[] zipOf(Map<String, byte[]> entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream out = new ZipOutputStream(bytes)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                out.putNextEntry(new ZipEntry(e.getKey()));
                out.write(e.getValue());
                out.closeEntry();
            }
        }
        return bytes.toByteArray();
    }

    @Test
    void everyMutatedDl4jZipLoadsOrIsRefusedInOneLine() throws Exception {
        Tally t = new Tally("zip");
        Random random = new Random(17);
        t.load("the real file", zip);
        assertEquals(1, t.loaded, "the unmutated file loads");
        for (int n = 0; n < zip.length; n += n < 64 || n > zip.length - 200 ? 1 : 3) {
            t.load("truncated to " + n, java.util.Arrays.copyOf(zip, n));
        }
        for (int i = 0; i < 1500; i++) {
            byte[] b = zip.clone();
            b[random.nextInt(b.length)] ^= (byte) (1 + random.nextInt(255));
            t.load("flip " + i, b);
        }
        // entries rewritten with correct CRCs: the parameter array's declared lengths, flips and cuts
        Map<String, byte[]> real = entries(zip);
        byte[] coefficients = real.get("coefficients.bin");
        for (int at = 0; at + 8 <= coefficients.length; at++) {
            byte[] c = coefficients.clone();
            long huge = random.nextBoolean() ? Long.MAX_VALUE >> random.nextInt(40) : -1L - random.nextInt(5);
            ByteBuffer.wrap(c, at, 8).putLong(huge);
            t.load("coefficients long " + huge + " at " + at, zipWith(real, "coefficients.bin", c), true);
            byte[] d = coefficients.clone();
            d[at] ^= (byte) (1 + random.nextInt(255));
            t.load("coefficients byte at " + at, zipWith(real, "coefficients.bin", d), true);
        }
        for (int n = 0; n < coefficients.length; n += 3) {
            t.load("coefficients cut to " + n, zipWith(real, "coefficients.bin", java.util.Arrays.copyOf(coefficients, n)), true);
        }
        String json = new String(real.get("configuration.json"), StandardCharsets.UTF_8);
        for (String replacement : new String[] {"46340", "2147483647", "-1", "0", "1000000"}) {
            for (String field : new String[] {"\"nin\" : ", "\"nout\" : "}) {
                String crafted = json.replaceAll(java.util.regex.Pattern.quote(field) + "[0-9]+", field + replacement);
                t.load(field + replacement, zipWith(real, "configuration.json", crafted.getBytes(StandardCharsets.UTF_8)), true);
            }
        }
        for (int i = 0; i < 200; i++) {
            byte[] c = real.get("configuration.json").clone();
            c[random.nextInt(c.length)] = (byte) random.nextInt(256);
            t.load("configuration flip " + i, zipWith(real, "configuration.json", c), true);
        }
        Map<String, byte[]> noParams = new LinkedHashMap<>(real);
        noParams.remove("coefficients.bin");
        t.load("no coefficients.bin", zipOf(noParams));
        Map<String, byte[]> noConfig = new LinkedHashMap<>(real);
        noConfig.remove("configuration.json");
        t.load("no configuration.json", zipOf(noConfig));
        foreign(t);
        t.report();
        assertTrue(t.failures.isEmpty(), t.failures.size() + " mutations not handled, first: "
                + (t.failures.isEmpty() ? "" : t.failures.get(0)));
        assertTrue(t.tried >= 3000, "thousands of mutations, got " + t.tried);
    }

    private static byte[] zipWith(Map<String, byte[]> real, String name, byte[] content) throws IOException {
        Map<String, byte[]> e = new LinkedHashMap<>(real);
        e.put(name, content);
        return zipOf(e);
    }

    /**
     * ND4J's array file, as a run caches a teacher's logits ({@code logits/<id>.bin}): checked by
     * {@link ModelFileCheck#nd4jArray} before {@code Nd4j.readBinary} allocates what it declares.
     */
    @Test
    void everyMutatedArrayFileLoadsOrIsRefusedInOneLine() throws Exception {
        org.nd4j.linalg.factory.Nd4j.getRandom().setSeed(12);
        INDArray logits = org.nd4j.linalg.factory.Nd4j.randn(org.nd4j.linalg.api.buffer.DataType.FLOAT, 40, 3);
        Path real = dir.resolve("logits.bin");
        org.nd4j.linalg.factory.Nd4j.saveBinary(logits, real.toFile());
        byte[] bytes = Files.readAllBytes(real);
        Tally t = new Tally("array", ".bin", file -> {
            ModelFileCheck.nd4jArray(file, 40 * 3);
            return org.nd4j.linalg.factory.Nd4j.readBinary(file.toFile());
        }, logits);
        Random random = new Random(18);
        t.load("the real file", bytes);
        assertEquals(1, t.loaded, "the unmutated file loads");
        for (int n = 0; n < bytes.length; n++) {
            t.load("truncated to " + n, java.util.Arrays.copyOf(bytes, n));
        }
        // no checksum in this format: any loaded change is a crafted file, as long as it loads as an array
        for (int at = 0; at + 8 <= bytes.length; at++) {
            byte[] c = bytes.clone();
            long huge = random.nextBoolean() ? Long.MAX_VALUE >> random.nextInt(40) : -1L - random.nextInt(5);
            ByteBuffer.wrap(c, at, 8).putLong(huge);
            t.load("long " + huge + " at " + at, c, true);
            byte[] d = bytes.clone();
            d[at] ^= (byte) (1 + random.nextInt(255));
            t.load("byte at " + at, d, true);
        }
        foreign(t);
        t.report();
        assertTrue(t.failures.isEmpty(), t.failures.size() + " mutations not handled, first: "
                + (t.failures.isEmpty() ? "" : t.failures.get(0)));
        assertTrue(t.tried >= 1000, "a thousand mutations or more, got " + t.tried);
    }

    /** What a packed file predicts for {@link #PROBE}, read as every caller reads it. */
    static INDArray scores(Path file) {
        return org.nd4j.linalg.factory.Nd4j.createFromArray(ModelReader.packed(file).predict(PROBE));
    }

    @Test
    void everyMutatedPackedFileLoadsOrIsRefusedInOneLine() throws Exception {
        Tally t = new Tally("packed", ".packed", ModelReaderFuzzTest::scores, packedScores);
        t.load("as written", packed);
        for (int n = 0; n < packed.length; n++) {
            t.load("cut to " + n, java.util.Arrays.copyOf(packed, n));
        }
        Random random = new Random(11);
        for (int at = 0; at < packed.length; at++) {
            byte[] b = packed.clone();
            b[at] ^= (byte) (1 + random.nextInt(255));
            // a flip may land in bytes no reader checks (padding, a float's low bits): then it loads as a
            // different but valid model, which is allowed; what is not is any other exception
            t.load("flip at " + at, b, true);
        }
        foreign(t);
        t.report();
        assertTrue(t.failures.isEmpty(), t.failures.size() + " mutations not handled, first: "
                + (t.failures.isEmpty() ? "" : t.failures.get(0)));
        assertTrue(t.tried >= 2 * packed.length, "every offset cut and flipped, got " + t.tried);
    }

    /**
     * The crafted files: a 46,340 x 46,340 layer declared with the checksums recomputed, as a
     * sparse file and as a zip, is refused before anything is allocated, in one line.
     */
    @Test
    void aHugeDeclaredLayerWithItsChecksumRecomputedIsRefusedBeforeAllocating() throws Exception {
        byte[] body = inflateBody(sparse);
        int jsonEnd = 4 + ByteBuffer.wrap(body, 0, 4).getInt();
        String json = new String(body, 4, jsonEnd - 4, StandardCharsets.UTF_8)
                .replaceAll("\"nin\" : [0-9]+", "\"nin\" : 46340").replaceAll("\"nout\" : [0-9]+", "\"nout\" : 46340");
        Path crafted = Files.write(dir.resolve("huge.sparse"), sparseFile(sparseBody(json, body, jsonEnd)));
        DistillException e = org.junit.jupiter.api.Assertions.assertThrows(DistillException.class,
                () -> ModelReader.network(crafted));
        assertTrue(e.getMessage().startsWith(crafted + ": declares 4,294,883,880 parameters") && e.getMessage().contains(
                "more than this JVM may allocate"), e.getMessage());
        Map<String, byte[]> entries = entries(zip);
        entries.put("configuration.json", json.getBytes(StandardCharsets.UTF_8));
        Path craftedZip = Files.write(dir.resolve("huge.zip"), zipOf(entries));
        DistillException z = org.junit.jupiter.api.Assertions.assertThrows(DistillException.class,
                () -> ModelReader.network(craftedZip));
        assertTrue(z.getMessage().startsWith(craftedZip + ": declares 4,294,883,880 parameters") && z.getMessage().contains(
                "more than this JVM may allocate"), z.getMessage());
    }

    /** The truncated zip of the issue (its last 10 bytes cut off) no longer loads as if whole. */
    @Test
    void aZipMissingItsLastTenBytesIsRefusedAsTruncated() throws IOException {
        Path file = dir.resolve("cut.zip");
        Files.write(file, java.util.Arrays.copyOf(zip, zip.length - 10));
        DistillException e = org.junit.jupiter.api.Assertions.assertThrows(DistillException.class,
                () -> ModelReader.network(file));
        assertTrue(e.getMessage().startsWith(file + ": damaged model zip"), e.getMessage());
    }
}
