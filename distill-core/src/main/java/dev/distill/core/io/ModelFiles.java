package dev.distill.core.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import dev.distill.models.network.Network;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * Writes models as a user ships them: DL4J's zip format (restorable with
 * {@code ModelSerializer.restoreMultiLayerNetwork}), architecture and parameters only, the output
 * layer a softmax with plain cross-entropy, so that loading needs no class of this project.
 */
public final class ModelFiles {

    private ModelFiles() {
    }

    /** Saves atomically (temporary file, fsync, rename): a crash never leaves a half-written model. */
    public static void saveForShipping(MultiLayerNetwork net, Path file) {
        MultiLayerNetwork shipped = withCrossEntropyOutput(net);
        writeAtomically(file, tmp -> ModelSerializer.writeModel(shipped, tmp.toFile(), false));
    }

    /**
     * As {@link #saveForShipping(MultiLayerNetwork, Path)}, for either kind of network; a graph is
     * restorable with {@code ModelSerializer.restoreComputationGraph} (or {@code ModelReader}).
     */
    public static void saveForShipping(Network net, Path file) {
        if (net instanceof Network.Sequential s) {
            saveForShipping(s.net(), file);
            return;
        }
        Network.Graph shipped = ((Network.Graph) net).withOutput(Activation.SOFTMAX.getActivationFunction(),
                new LossMCXENT());
        writeAtomically(file, tmp -> ModelSerializer.writeModel(shipped.model(), tmp.toFile(), false));
    }

    /** A copy whose output layer is softmax with cross-entropy, whatever loss trained the original. */
    public static MultiLayerNetwork withCrossEntropyOutput(MultiLayerNetwork net) {
        MultiLayerConfiguration conf = net.getLayerWiseConfigurations().clone();
        Layer last = conf.getConf(conf.getConfs().size() - 1).getLayer();
        if (last instanceof BaseOutputLayer output) {
            output.setLossFn(new LossMCXENT());
            output.setActivationFn(Activation.SOFTMAX.getActivationFunction());
        }
        MultiLayerNetwork copy = new MultiLayerNetwork(conf);
        copy.init(net.params().dup(), false);
        return copy;
    }

    /** Something that writes a file at the given (temporary) path. */
    @FunctionalInterface
    public interface Writer {
        void write(Path tmp) throws IOException;
    }

    /**
     * Writes through a temporary file in the same directory, forces it to disk and renames it over
     * the target, so readers see either the old file or the complete new one.
     */
    public static void writeAtomically(Path file, Writer writer) {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
            writer.write(tmp);
            // createTempFile makes the file private (0600); a run's files are meant to be shared and read
            try {
                Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            } catch (UnsupportedOperationException ignored) {
                // not a POSIX file system: keep its default permissions
            }
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                channel.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            tmp = null;
            try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
                channel.force(true);
            } catch (IOException ignored) {
                // some file systems cannot fsync a directory; the rename itself is still atomic
            }
        } catch (IOException e) {
            throw dev.distill.core.DiskFullException.writing(file, e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort: a stray .tmp file is never read as a model
                }
            }
        }
    }

    /** Whether a file starts with {@code magic} (false for a file that cannot be read). */
    public static boolean startsWith(Path file, byte[] magic) {
        try (java.io.InputStream in = Files.newInputStream(file)) {
            return java.util.Arrays.equals(in.readNBytes(magic.length), magic);
        } catch (IOException e) {
            return false;
        }
    }

    /** The whole file, or a one-line {@link dev.distill.core.DistillException} naming it. */
    public static byte[] readAllBytes(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new dev.distill.core.DistillException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }
}
