package dev.distill.runtime;

import java.io.ByteArrayOutputStream;
import java.io.IOException;

/** Values packed at their real width, most significant bit first, the last byte padded with zeros. */
final class Bits {

    private Bits() {
    }

    /** Accumulates bits into bytes. */
    static final class Writer {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private long buffer;
        private int filled;

        /** The low {@code width} bits of {@code value} (width 0..32). */
        void write(int value, int width) {
            for (int b = width - 1; b >= 0; b--) {
                buffer = (buffer << 1) | ((value >>> b) & 1);
                if (++filled == 8) {
                    out.write((int) buffer);
                    buffer = 0;
                    filled = 0;
                }
            }
        }

        byte[] toByteArray() {
            if (filled > 0) {
                out.write((int) (buffer << (8 - filled)));
                buffer = 0;
                filled = 0;
            }
            return out.toByteArray();
        }
    }

    /** Reads bits from a byte array; running past its end is an error (a truncated stream). */
    static final class Reader {
        private final byte[] bytes;
        private long position;

        Reader(byte[] bytes) {
            this.bytes = bytes;
        }

        int bit() throws IOException {
            int index = (int) (position >>> 3);
            if (index >= bytes.length) {
                throw new IOException("bit stream ends early (" + bytes.length + " bytes)");
            }
            int b = (bytes[index] >>> (7 - (int) (position & 7))) & 1;
            position++;
            return b;
        }

        int read(int width) throws IOException {
            int v = 0;
            for (int i = 0; i < width; i++) {
                v = (v << 1) | bit();
            }
            return v;
        }
    }
}
