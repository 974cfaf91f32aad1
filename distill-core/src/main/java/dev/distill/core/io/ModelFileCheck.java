package dev.distill.core.io;

import dev.distill.core.DistillException;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.Locale;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Checks a model file before anything reads it, so that a damaged, truncated or crafted file ends in
 * one {@link DistillException} naming the file and what is wrong, never in an allocation sized by the
 * file ({@code OutOfMemoryError}) or a library's stack trace:
 * <ul>
 * <li>{@link #regularFile}: the path is a non-empty regular file (not a directory, FIFO or device);</li>
 * <li>{@link #zip}: a DL4J zip has its central directory, every entry's CRC matches its bytes (each is
 * read through), {@code configuration.json} parses, and {@code coefficients.bin} declares exactly the
 * parameters that configuration has, in exactly the bytes the entry holds;</li>
 * <li>{@link #parameters}: a declared parameter count fits in the memory this JVM may allocate.</li>
 * </ul>
 */
public final class ModelFileCheck {

    /** The entries DL4J's {@code ModelSerializer} writes; anything else is not its model file. */
    private static final Set<String> DL4J_ENTRIES = Set.of("configuration.json", "coefficients.bin",
            "updaterState.bin", "noParams.marker", "normalizer.bin", "preprocessor.bin", "objects.bin");
    /** More entries than any model zip has: a crafted central directory is refused before it is walked. */
    private static final int MAX_ENTRIES = 64;
    /** No configuration JSON of a real model comes near this (a 50-layer graph is about 200 KB). */
    private static final long MAX_CONFIG_BYTES = 16L << 20;
    private static final String CONFIG = "configuration.json";
    private static final String PARAMS = "coefficients.bin";

    private ModelFileCheck() {
    }

    /**
     * The file's size, after checking that it is a readable, non-empty regular file.
     *
     * @throws DistillException naming the file and what it is instead
     */
    public static long regularFile(Path file) {
        String problem = problem(file);
        if (problem != null) {
            throw new DistillException(file + ": " + problem);
        }
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new DistillException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /**
     * Why {@code file} cannot be a model file (missing, a directory, a device or FIFO, empty,
     * unreadable), or null if it is a readable, non-empty regular file.
     */
    public static String problem(Path file) {
        return problem(file, "model file");
    }

    /** As {@link #problem(Path)}, for a file of another kind ({@code what}: "config file", ...). */
    public static String problem(Path file, String what) {
        if (Files.isDirectory(file)) {
            return "is a directory, not a " + what;
        }
        if (!Files.exists(file)) {
            return what + " not found";
        }
        if (!Files.isRegularFile(file)) {
            return "not a regular file (a device, FIFO or socket); name a " + what;
        }
        try {
            if (Files.size(file) == 0) {
                return "is empty (0 bytes), not a " + what;
            }
        } catch (IOException e) {
            return "cannot read (" + e.getMessage() + ")";
        }
        if (!Files.isReadable(file)) {
            return "cannot read (permission denied)";
        }
        return null;
    }

    /**
     * Refuses a declared parameter count whose float32 values would not fit, with room to spare, in
     * what this JVM may allocate: an eighth of the smaller of the heap limit and JavaCPP's off-heap
     * limit, since reading a model holds its values several times over (the bytes read, the array
     * read, the network's own copy). With the launcher's default {@code -Xmx8g} that is 1 GB, 268
     * million parameters; the largest model of this project has about a million.
     */
    public static void parameters(Path file, long count) {
        if (count < 0) {
            throw new DistillException(file + ": declares a negative number of parameters (" + count + "): damaged");
        }
        long limit = Math.min(Runtime.getRuntime().maxMemory(), org.bytedeco.javacpp.Pointer.maxBytes()) / 8;
        if (4 * count > limit || count > Integer.MAX_VALUE) {
            throw new DistillException(String.format(Locale.ROOT,
                    "%s: declares %,d parameters (%,d MB as float32), more than this JVM may allocate (%,d MB); "
                            + "the file is damaged, or raise -Xmx in DISTILL_JAVA_OPTS if it is genuine",
                    file, count, 4 * count >> 20, limit >> 20));
        }
    }

    /** The parameters a DL4J network configuration declares, counted without allocating them. */
    public static long parameters(MultiLayerConfiguration conf) {
        long n = 0;
        for (NeuralNetConfiguration layer : conf.getConfs()) {
            n = Math.addExact(n, layer.getLayer().initializer().numParams(layer));
        }
        return n;
    }

    /** As {@link #parameters(MultiLayerConfiguration)}, for a graph. */
    public static long parameters(ComputationGraphConfiguration conf) {
        long n = 0;
        for (GraphVertex v : conf.getVertices().values()) {
            if (v instanceof LayerVertex lv) {
                n = Math.addExact(n, lv.getLayerConf().getLayer().initializer().numParams(lv.getLayerConf()));
            }
        }
        return n;
    }

    /**
     * Checks a DL4J model zip whole before DL4J reads it: central directory, every entry's CRC, the
     * configuration, and the parameter array's declared sizes against the configuration and the entry.
     *
     * @return whether the zip holds a graph (a ComputationGraph's configuration) rather than a sequential network
     * @throws DistillException naming the file and what is damaged
     */
    public static boolean zip(Path file) {
        regularFile(file);
        try (ZipFile zip = new ZipFile(file.toFile())) {
            if (zip.size() > MAX_ENTRIES) {
                throw damaged(file, zip.size() + " entries; a DL4J model zip has a handful");
            }
            String json = null;
            ZipEntry params = null;
            boolean noParams = false;
            for (Enumeration<? extends ZipEntry> entries = zip.entries(); entries.hasMoreElements(); ) {
                ZipEntry e = entries.nextElement();
                if (!DL4J_ENTRIES.contains(e.getName())) {
                    throw new DistillException(file + ": a zip but not a DL4J model file (it holds " + quote(e.getName())
                            + "; DL4J's ModelSerializer writes configuration.json and coefficients.bin)");
                }
                if (e.getName().equals(CONFIG)) {
                    if (e.getSize() > MAX_CONFIG_BYTES) {
                        throw damaged(file, "configuration.json declares " + e.getSize() + " bytes");
                    }
                    json = new String(readThrough(zip, e, file), StandardCharsets.UTF_8);
                } else if (e.getName().equals(PARAMS)) {
                    params = e;
                } else {
                    noParams |= e.getName().equals("noParams.marker");
                    readThrough(zip, e, file);
                }
            }
            if (json == null) {
                throw new DistillException(file + ": a zip but not a DL4J model file (no configuration.json)");
            }
            boolean graph = json.contains("\"vertices\"") && json.contains("\"networkInputs\"");
            long declared = parameters(file, json, graph);
            parameters(file, declared);
            if (params == null) {
                if (!noParams && declared > 0) {
                    throw damaged(file, "no coefficients.bin for a network of " + declared + " parameters");
                }
                return graph;
            }
            checkCoefficients(zip, params, file, declared);
            localHeaders(zip, file);
            return graph;
        } catch (ZipException e) {
            throw damaged(file, "not a readable zip (" + e.getMessage() + "); truncated or overwritten?");
        } catch (EOFException e) {
            throw damaged(file, "an entry ends early; truncated?");
        } catch (IOException e) {
            // ZipFile reports a damaged directory (an entry name that is not UTF-8, ...) as a plain IOException
            throw damaged(file, "not a readable zip (" + e.getMessage() + ")");
        }
    }

    /**
     * Reads the zip front to back as DL4J does ({@link java.util.zip.ZipInputStream}, by the local
     * headers), which checks each entry's sizes and CRC against its local header and data descriptor,
     * and compares the entries met with the central directory's.
     */
    private static void localHeaders(ZipFile zip, Path file) throws IOException {
        int seen = 0;
        try (java.util.zip.ZipInputStream in = new java.util.zip.ZipInputStream(Files.newInputStream(file))) {
            for (ZipEntry e; (e = in.getNextEntry()) != null; seen++) {
                ZipEntry central = zip.getEntry(e.getName());
                if (central == null) {
                    throw damaged(file, "local entry " + quote(e.getName()) + " is not in the central directory");
                }
                long n = in.transferTo(java.io.OutputStream.nullOutputStream());
                if (n != central.getSize()) {
                    throw damaged(file, "entry " + e.getName() + ": " + n + " bytes by its local header, "
                            + central.getSize() + " by the central directory");
                }
            }
        } catch (ZipException | IllegalArgumentException e) {
            // ZipInputStream reports an entry name that is not UTF-8 as an IllegalArgumentException
            throw damaged(file, "its local headers do not match its central directory (" + e.getMessage() + ")");
        }
        if (seen != zip.size()) {
            throw damaged(file, seen + " entries by the local headers, " + zip.size() + " by the central directory");
        }
    }

    private static long parameters(Path file, String json, boolean graph) {
        try {
            return graph ? parameters(ComputationGraphConfiguration.fromJson(json))
                    : parameters(MultiLayerConfiguration.fromJson(json));
        } catch (RuntimeException | StackOverflowError e) {
            throw damaged(file, "configuration.json is not a DL4J " + (graph ? "graph" : "network")
                    + " configuration (" + firstLine(e) + ")");
        }
    }

    private static void checkCoefficients(ZipFile zip, ZipEntry entry, Path file, long declared) throws IOException {
        long size = entry.getSize();
        if (size < 0 || size > 8 * declared + 4096) {
            throw damaged(file, "coefficients.bin declares " + size + " bytes for " + declared + " parameters");
        }
        String problem = arrayProblem(readThrough(zip, entry, file), declared, "parameters");
        if (problem != null) {
            throw damaged(file, "coefficients.bin " + problem);
        }
    }

    /**
     * Checks a file in ND4J's array format ({@code Nd4j.saveBinary}) that must hold {@code values}
     * values before ND4J reads it (which allocates whatever the file declares).
     *
     * @throws DistillException naming the file and what is wrong
     */
    public static void nd4jArray(Path file, long values) {
        long size = regularFile(file);
        if (size > 8 * values + 4096) {
            throw new DistillException(file + ": damaged array file: " + size + " bytes for " + values + " values");
        }
        String problem;
        try {
            problem = arrayProblem(Files.readAllBytes(file), values, "values");
        } catch (IOException e) {
            throw new DistillException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        if (problem != null) {
            throw new DistillException(file + ": damaged array file: " + problem);
        }
    }

    /**
     * What is wrong with {@code bytes} as ND4J's array format holding exactly {@code expected} values
     * ({@code what}, for the message), or null: the shape buffer, then the data buffer, each a header
     * (allocation mode, length, data type) and its values; both lengths are checked against the bytes
     * there are, the shape information against the data, before ND4J would allocate them.
     */
    static String arrayProblem(byte[] bytes, long expected, String what) {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
        try {
            Header shape = bufferHeader(in, "shape", 64);
            long[] info = new long[(int) shape.length()];
            for (int i = 0; i < info.length; i++) {
                info[i] = shape.width() == 8 ? in.readLong() : in.readInt();
            }
            Header data = bufferHeader(in, "data", expected);
            long length = data.length();
            if (!shapeInfo(info, length, data.dataType())) {
                return "has shape information that does not describe " + length + " " + data.type() + " values";
            }
            if (length != expected) {
                return "holds " + length + " " + what + " where " + expected + " are expected";
            }
            long left = in.available();
            if (left != length * data.width()) {
                return "has " + left + " bytes of values where " + length + " " + data.type() + " " + what + " take "
                        + length * data.width();
            }
            return null;
        } catch (BadHeader e) {
            return e.getMessage();
        } catch (IOException e) {
            return "ends early";
        }
    }

    /** A buffer header that is not ND4J's. */
    private static final class BadHeader extends IOException {
        BadHeader(String message) {
            super(message);
        }
    }

    /** One ND4J buffer header: how many values, of what type and width. */
    private record Header(long length, int width, String type, DataType dataType) {
    }

    /**
     * Whether ND4J's shape information (rank, shape, strides, options, element stride, order) is that
     * of a dense array of {@code length} values of type {@code type}, as {@code ModelSerializer} writes
     * the parameters: strides of the stated order, element stride 1, options naming the data type.
     * Anything else would have ND4J address memory the buffer does not have.
     */
    static boolean shapeInfo(long[] info, long length, DataType type) {
        if (info.length < 4 || info[0] < 0 || info[0] > 32 || info.length != 2 * info[0] + 4) {
            return false;
        }
        int rank = (int) info[0];
        long order = info[info.length - 1];
        if (order != 'c' && order != 'f' || info[info.length - 2] != 1
                || info[info.length - 3] != org.nd4j.linalg.api.shape.options.ArrayOptionsHelper.setOptionBit(0L, type)) {
            return false;
        }
        long elements = 1;
        for (int d = 0; d < rank; d++) {
            if (info[1 + d] < 0 || info[1 + d] > length) {
                return false;
            }
            elements *= info[1 + d];
        }
        if (elements != length) {
            return false;
        }
        long stride = 1;
        for (int k = 0; k < rank; k++) {
            int d = order == 'c' ? rank - 1 - k : k;
            if (info[1 + rank + d] != stride && info[1 + d] != 1) {
                return false;
            }
            stride *= info[1 + d];
        }
        return true;
    }

    private static Header bufferHeader(DataInputStream in, String what, long maxLength) throws IOException {
        String mode = in.readUTF();
        long length = in.readLong();
        String type = in.readUTF();
        if (!Set.of("MIXED_DATA_TYPES", "HEAP", "JAVACPP", "DIRECT", "LONG_SHAPE").contains(mode)) {
            throw new BadHeader("has an unknown allocation mode " + quote(mode) + " in its " + what + " buffer");
        }
        DataType dt;
        try {
            dt = DataType.valueOf(type);
        } catch (IllegalArgumentException e) {
            throw new BadHeader("has an unknown data type " + quote(type) + " in its " + what + " buffer");
        }
        if (dt.width() <= 0) {
            throw new BadHeader("has data type " + quote(type) + " in its " + what + " buffer");
        }
        if (length < 0 || length > maxLength || (long) dt.width() * length > in.available()) {
            throw new BadHeader("declares a " + what + " buffer of " + length + " values, " + in.available()
                    + " bytes are left");
        }
        return new Header(length, dt.width(), type.toLowerCase(Locale.ROOT), dt);
    }

    /** Reads an entry to its end, which makes {@link ZipFile} verify its CRC and size. */
    private static byte[] readThrough(ZipFile zip, ZipEntry e, Path file) throws IOException {
        if (e.getSize() > Integer.MAX_VALUE - 16 || e.getSize() < -1) {
            throw damaged(file, "entry " + e.getName() + " declares " + e.getSize() + " bytes");
        }
        byte[] bytes;
        try (InputStream in = zip.getInputStream(e)) {
            bytes = in.readAllBytes();
        } catch (ZipException ex) {
            throw damaged(file, "entry " + e.getName() + ": " + ex.getMessage());
        } catch (EOFException ex) {
            throw damaged(file, "entry " + e.getName() + " ends early; truncated?");
        }
        // ZipFile checks sizes but not CRCs: compare them here
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(bytes);
        if (e.getCrc() != -1 && crc.getValue() != e.getCrc()) {
            throw damaged(file, String.format(Locale.ROOT, "entry %s: CRC %08x, the zip's directory says %08x",
                    e.getName(), crc.getValue(), e.getCrc()));
        }
        if (e.getSize() != -1 && bytes.length != e.getSize()) {
            throw damaged(file, "entry " + e.getName() + ": " + bytes.length + " bytes, the zip's directory says "
                    + e.getSize());
        }
        return bytes;
    }

    private static DistillException damaged(Path file, String what) {
        return new DistillException(file + ": damaged model zip: " + what);
    }

    private static String quote(String s) {
        String shown = s.length() > 40 ? s.substring(0, 40) + "..." : s;
        return "\"" + shown.replaceAll("\\p{Cntrl}", "?") + "\"";
    }

    private static String firstLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        String line = m.lines().findFirst().orElse(m);
        return line.length() > 160 ? line.substring(0, 160) + "..." : line;
    }

    /** What a file starts with, for a message about a file of no known format (printable, at most 16 bytes). */
    public static String head(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] b = in.readNBytes(16);
            StringBuilder s = new StringBuilder();
            for (byte x : b) {
                s.append(x >= 0x20 && x < 0x7f ? (char) x : '.');
            }
            return "\"" + s + "\"";
        } catch (IOException e) {
            return "(unreadable)";
        }
    }
}
