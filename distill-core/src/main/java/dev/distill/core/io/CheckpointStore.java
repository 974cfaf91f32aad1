package dev.distill.core.io;

import dev.distill.core.train.CheckpointSink;
import dev.distill.core.train.EpochMetrics;
import dev.distill.core.train.TrainingState;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import dev.distill.models.network.Network;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The checkpoints of one training run, in one directory: {@code ckpt-NNNNNN.zip} files and a
 * {@code manifest.tsv} that lists each with its size and SHA-256 and the epoch and example it
 * stands at. A checkpoint holds the network with its optimizer state (DL4J's own format, with the
 * iteration and epoch counters that learning-rate schedules read), the best epoch's parameters,
 * the networks trained beside it ({@link TrainingState#companions}, in the same format) and the rest of
 * the {@link TrainingState}.
 *
 * <p>Checkpoint format {@value #FORMAT} (the {@code format} line of its state); a checkpoint without that line is
 * format 1, written before companions were kept, and reads with none.
 *
 * <p>Every file is written atomically (temporary file in the same directory, fsync, rename, fsync
 * of the directory), the checkpoint before the manifest entry that vouches for it, so nothing good
 * is ever replaced by something partial. Only the last {@code keep} checkpoints stay. Reading, a
 * checkpoint that is missing, has the wrong size or checksum, is not in the manifest, or does not
 * deserialize is reported in one line naming the file, and the one before it is used.
 */
public final class CheckpointStore implements CheckpointSink {

    public static final String MANIFEST = "manifest.tsv";
    private static final String HEADER = "# file\tbytes\tsha256\tepochs_done\tnext_example";
    private static final String NETWORK = "network.zip";
    private static final String BEST = "best-params.bin";
    private static final String STATE = "state.properties";
    /** The checkpoint format written: 2 added the companions ({@code companion-NAME.zip}, listed in the state). */
    static final int FORMAT = 2;
    private static final String COMPANION_PREFIX = "companion-";
    private static final String COMPANION_SUFFIX = ".zip";

    private final Path dir;
    private final int keep;

    public CheckpointStore(Path dir, int keep) {
        if (keep < 1) {
            throw new IllegalArgumentException("keep must be positive, got " + keep);
        }
        this.dir = dir;
        this.keep = keep;
    }

    public Path dir() {
        return dir;
    }

    /** One line of the manifest. */
    public record Entry(String file, long bytes, String sha256, int epochsDone, int nextExample) {

        String line() {
            return String.join("\t", file, Long.toString(bytes), sha256, Integer.toString(epochsDone),
                    Integer.toString(nextExample));
        }

        static Entry parse(String line) {
            String[] f = line.split("\t");
            if (f.length != 5) {
                throw new IllegalArgumentException("expected 5 tab-separated fields, found " + f.length);
            }
            return new Entry(f[0], Long.parseLong(f[1]), f[2], Integer.parseInt(f[3]), Integer.parseInt(f[4]));
        }
    }

    /** A checkpoint read back: the network with its optimizer state, where training stood, and its file. */
    public record Restored(Network network, TrainingState state, Path file) {

        /** The restored network if it is sequential. */
        public MultiLayerNetwork net() {
            return network.sequential("this checkpoint reader");
        }

        /** As {@link #copyInto(Network)}, for a sequential network. */
        public void copyInto(MultiLayerNetwork fresh) {
            copyInto(Network.of(fresh));
        }

        /**
         * Puts the checkpoint's parameters, optimizer state and iteration and epoch counters into
         * {@code fresh}, a network built from the same specification (so that whatever the builder
         * sets up beyond the saved configuration is there too).
         */
        public void copyInto(Network fresh) {
            try {
                fresh.copyTrainingStateFrom(network);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
            }
        }
    }

    /** As {@link #save(Network, TrainingState)}, for a sequential network. */
    public void save(MultiLayerNetwork net, TrainingState state) {
        save(Network.of(net), state);
    }

    @Override
    public void save(Network net, TrainingState state) {
        List<Entry> entries = readManifestQuietly();
        int number = 1;
        for (Entry e : entries) {
            number = Math.max(number, sequence(e.file()) + 1);
        }
        String name = String.format(Locale.ROOT, "ckpt-%06d.zip", number);
        MessageDigest sha = sha256();
        long[] bytes = {0};
        ModelFiles.writeAtomically(dir.resolve(name), tmp -> {
            try (OutputStream file = Files.newOutputStream(tmp);
                    CountingStream counted = new CountingStream(new DigestOutputStream(file, sha))) {
                write(net, state, counted);
                counted.flush();
                bytes[0] = counted.count;
            }
        });
        entries.add(new Entry(name, bytes[0], HexFormat.of().formatHex(sha.digest()), state.completedEpochs(),
                state.nextExample()));
        List<Entry> kept = entries.subList(Math.max(0, entries.size() - keep), entries.size());
        writeManifest(kept);
        // old checkpoints go only once the manifest no longer names them
        for (Entry e : entries.subList(0, entries.size() - kept.size())) {
            deleteQuietly(dir.resolve(e.file()));
        }
    }

    /** The newest checkpoint's manifest entry, without reading the checkpoint itself (for status). */
    public Optional<Entry> newestEntry() {
        List<Entry> entries = readManifestQuietly();
        return entries.isEmpty() ? Optional.empty() : Optional.of(entries.get(entries.size() - 1));
    }

    /**
     * The newest checkpoint that is intact, or empty if there is none; every one passed over is
     * reported to {@code warn} in one line naming its file.
     */
    public Optional<Restored> newestGood(Consumer<String> warn) {
        return newestGood(warn, e -> true);
    }

    /**
     * The newest intact checkpoint taken at the end of epoch {@code epochs}, or empty: the point every
     * student of a mutual group reached, when one of them was checkpointed past it before an interruption.
     */
    public Optional<Restored> goodAtEpochEnd(int epochs, Consumer<String> warn) {
        return newestGood(warn, e -> e.epochsDone() == epochs && e.nextExample() == 0);
    }

    /** The manifest's entries, oldest first (empty if there is none or it cannot be read). */
    public List<Entry> entries() {
        return List.copyOf(readManifestQuietly());
    }

    private Optional<Restored> newestGood(Consumer<String> warn, java.util.function.Predicate<Entry> wanted) {
        if (!Files.isDirectory(dir)) {
            return Optional.empty();
        }
        List<Entry> entries;
        try {
            entries = readManifest();
        } catch (RuntimeException e) {
            warn.accept(dir.resolve(MANIFEST) + ": unreadable (" + e.getMessage() + "); its checkpoints are not used");
            return Optional.empty();
        }
        List<String> listed = entries.stream().map(Entry::file).toList();
        int newestListed = listed.stream().mapToInt(CheckpointStore::sequence).max().orElse(0);
        for (Path f : checkpointFiles()) {
            String name = f.getFileName().toString();
            if (!listed.contains(name) && sequence(name) > newestListed) {
                warn.accept(f + ": not in " + MANIFEST + " (its write did not finish?); not used");
            }
        }
        for (int i = entries.size() - 1; i >= 0; i--) {
            Entry e = entries.get(i);
            if (!wanted.test(e)) {
                continue;
            }
            Path file = dir.resolve(e.file());
            String problem = check(e, file);
            if (problem == null) {
                try {
                    return Optional.of(read(file));
                } catch (IOException | RuntimeException ex) {
                    problem = "does not deserialize (" + ex.getClass().getSimpleName()
                            + (ex.getMessage() == null ? "" : ": " + ex.getMessage().lines().findFirst().orElse(""))
                            + ")";
                }
            }
            warn.accept(file + ": " + problem + "; " + (i > 0 ? "using the previous checkpoint"
                    : "no earlier checkpoint: this training run starts over"));
        }
        return Optional.empty();
    }

    /** Null if {@code file} has the size and checksum the manifest gives it, else what is wrong. */
    private static String check(Entry e, Path file) {
        return new FileDigest(e.bytes(), e.sha256()).check(file, "the manifest");
    }

    private static void write(Network net, TrainingState state, OutputStream out) throws IOException {
        ZipOutputStream zip = new ZipOutputStream(out);
        // the network file is compressed already
        zip.setLevel(java.util.zip.Deflater.NO_COMPRESSION);
        zip.putNextEntry(new ZipEntry(NETWORK));
        ByteArrayOutputStream network = new ByteArrayOutputStream();
        ModelSerializer.writeModel(net.model(), network, true);
        network.writeTo(zip);
        zip.closeEntry();
        if (state.bestParams() != null) {
            zip.putNextEntry(new ZipEntry(BEST));
            DataOutputStream data = new DataOutputStream(zip);
            Nd4j.write(state.bestParams(), data);
            data.flush();
            zip.closeEntry();
        }
        for (java.util.Map.Entry<String, Network> c : state.companions().entrySet()) {
            zip.putNextEntry(new ZipEntry(COMPANION_PREFIX + c.getKey() + COMPANION_SUFFIX));
            ByteArrayOutputStream companion = new ByteArrayOutputStream();
            ModelSerializer.writeModel(c.getValue().model(), companion, true);
            companion.writeTo(zip);
            zip.closeEntry();
        }
        zip.putNextEntry(new ZipEntry(STATE));
        zip.write(properties(state).getBytes(StandardCharsets.UTF_8));
        zip.closeEntry();
        zip.finish();
    }

    static Restored read(Path file) throws IOException {
        Network net = null;
        INDArray best = null;
        Properties p = null;
        java.util.Map<String, Network> companions = new java.util.TreeMap<>();
        try (ZipInputStream zip = new ZipInputStream(Files.newInputStream(file))) {
            for (ZipEntry entry; (entry = zip.getNextEntry()) != null; ) {
                byte[] content = zip.readAllBytes();
                switch (entry.getName()) {
                    case NETWORK -> net = Network.restore(content, true);
                    case BEST -> best = Nd4j.read(new DataInputStream(new ByteArrayInputStream(content)));
                    case STATE -> {
                        p = new Properties();
                        p.load(new java.io.StringReader(new String(content, StandardCharsets.UTF_8)));
                    }
                    default -> {
                        String name = entry.getName();
                        if (!name.startsWith(COMPANION_PREFIX) || !name.endsWith(COMPANION_SUFFIX)) {
                            throw new IOException("unexpected entry " + name);
                        }
                        companions.put(name.substring(COMPANION_PREFIX.length(),
                                name.length() - COMPANION_SUFFIX.length()), Network.restore(content, true));
                    }
                }
            }
        }
        if (net == null || p == null) {
            throw new IOException("no " + (net == null ? NETWORK : STATE) + " in it");
        }
        return new Restored(net, state(p, best, companions), file);
    }

    /** The state as text; doubles as Java prints them, which reads back to the same bits. */
    private static String properties(TrainingState s) {
        StringBuilder b = new StringBuilder();
        b.append("format=").append(FORMAT).append('\n');
        b.append("companions=").append(String.join(",", s.companions().keySet())).append('\n');
        b.append("examples=").append(s.examples()).append('\n');
        b.append("completed_epochs=").append(s.completedEpochs()).append('\n');
        b.append("next_example=").append(s.nextExample()).append('\n');
        b.append("loss_sum=").append(s.lossSum()).append('\n');
        b.append("epoch_seconds=").append(s.epochSeconds()).append('\n');
        b.append("best_epoch=").append(s.bestEpoch()).append('\n');
        b.append("best_accuracy=").append(s.bestAccuracy()).append('\n');
        b.append("seconds=").append(s.seconds()).append('\n');
        b.append("rng_root=").append(s.rngRoot()).append('\n');
        b.append("rng_node=").append(s.rngNode()).append('\n');
        for (EpochMetrics m : s.history()) {
            b.append("epoch.").append(m.epoch()).append('=').append(m.trainLoss()).append(' ')
                    .append(m.validationAccuracy()).append(' ').append(m.seconds()).append(' ')
                    .append(m.samplesPerSecond()).append('\n');
        }
        return b.toString();
    }

    private static TrainingState state(Properties p, INDArray best, java.util.Map<String, Network> companions)
            throws IOException {
        int format = Integer.parseInt(p.getProperty("format", "1"));
        if (format > FORMAT) {
            throw new IOException("checkpoint format " + format + ", this version reads up to " + FORMAT);
        }
        // format 1 had no companions; from 2 the state lists them, so a missing one is damage, not age
        java.util.Set<String> listed = new java.util.TreeSet<>();
        for (String name : p.getProperty("companions", "").split(",")) {
            if (!name.isEmpty()) {
                listed.add(name);
            }
        }
        if (!listed.equals(companions.keySet())) {
            throw new IOException(STATE + " lists companions " + listed + " but the checkpoint holds "
                    + companions.keySet());
        }
        try {
            int done = Integer.parseInt(p.getProperty("completed_epochs"));
            List<EpochMetrics> history = new ArrayList<>();
            for (int e = 1; e <= done; e++) {
                String[] f = p.getProperty("epoch." + e).split(" ");
                history.add(new EpochMetrics(e, Double.parseDouble(f[0]), Double.parseDouble(f[1]),
                        Double.parseDouble(f[2]), Double.parseDouble(f[3])));
            }
            return new TrainingState(Integer.parseInt(p.getProperty("examples")), done,
                    Integer.parseInt(p.getProperty("next_example")), Double.parseDouble(p.getProperty("loss_sum")),
                    Double.parseDouble(p.getProperty("epoch_seconds")), history,
                    Integer.parseInt(p.getProperty("best_epoch")), Double.parseDouble(p.getProperty("best_accuracy")),
                    best, Double.parseDouble(p.getProperty("seconds")), Long.parseLong(p.getProperty("rng_root")),
                    Long.parseLong(p.getProperty("rng_node")), companions);
        } catch (RuntimeException e) {
            throw new IOException(STATE + ": " + e, e);
        }
    }

    private List<Entry> readManifest() {
        Path file = dir.resolve(MANIFEST);
        if (!Files.exists(file)) {
            return new ArrayList<>();
        }
        List<Entry> entries = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (!line.isBlank() && !line.startsWith("#")) {
                    entries.add(Entry.parse(line));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return entries;
    }

    private List<Entry> readManifestQuietly() {
        try {
            return readManifest();
        } catch (RuntimeException e) {
            return new ArrayList<>();
        }
    }

    private void writeManifest(List<Entry> entries) {
        StringBuilder b = new StringBuilder(HEADER).append('\n');
        for (Entry e : entries) {
            b.append(e.line()).append('\n');
        }
        ModelFiles.writeAtomically(dir.resolve(MANIFEST),
                tmp -> Files.writeString(tmp, b.toString(), StandardCharsets.UTF_8));
    }

    private List<Path> checkpointFiles() {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().matches("ckpt-\\d+\\.zip")).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static int sequence(String name) {
        String digits = name.replaceAll("\\D", "");
        return digits.isEmpty() ? 0 : Integer.parseInt(digits);
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // a stale checkpoint left behind is not in the manifest and is never read
        }
    }

    private static MessageDigest sha256() {
        return FileDigest.newSha256();
    }

    /** Counts the bytes written through it. */
    private static final class CountingStream extends BufferedOutputStream {
        long count;

        CountingStream(OutputStream out) {
            super(out, 1 << 16);
        }

        @Override
        public synchronized void write(int b) throws IOException {
            super.write(b);
            count++;
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) throws IOException {
            super.write(b, off, len);
            count += len;
        }
    }
}
