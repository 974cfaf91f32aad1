package dev.distill.core.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A file's size and SHA-256, recorded when it was written so that a later reader can tell whether it
 * is still the file that was written (checkpoints, finished models, the progress record).
 */
public record FileDigest(long bytes, String sha256) {

    /** The digest of {@code file} as it is now. */
    public static FileDigest of(Path file) throws IOException {
        MessageDigest sha = newSha256();
        long bytes = 0;
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 16];
            for (int r; (r = in.read(buffer)) > 0; ) {
                sha.update(buffer, 0, r);
                bytes += r;
            }
        }
        return new FileDigest(bytes, HexFormat.of().formatHex(sha.digest()));
    }

    /** The SHA-256 of {@code bytes}, in hex. */
    public static String sha256Of(byte[] bytes) {
        return HexFormat.of().formatHex(newSha256().digest(bytes));
    }

    /**
     * Null if {@code file} is still what this digest records, else what is wrong (missing, truncated,
     * damaged, unreadable).
     *
     * @param recordedBy what recorded the digest, for the message ({@code the manifest})
     */
    public String check(Path file, String recordedBy) {
        if (!Files.isRegularFile(file)) {
            return "missing";
        }
        try {
            long size = Files.size(file);
            if (size != bytes) {
                return "truncated or damaged: " + size + " bytes, " + recordedBy + " says " + bytes;
            }
            String actual = of(file).sha256();
            return actual.equals(sha256) ? null : "damaged: SHA-256 " + actual + ", " + recordedBy + " says " + sha256;
        } catch (IOException e) {
            return "unreadable: " + e.getMessage();
        }
    }

    /** A new SHA-256 digest. */
    static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
