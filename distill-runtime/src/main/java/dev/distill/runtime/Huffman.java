package dev.distill.runtime;

import java.io.IOException;
import java.util.PriorityQueue;

/**
 * Canonical Huffman codes over a small alphabet (codes or index deltas, at most 256 symbols), as Deep
 * Compression's last step. The code is described by each symbol's code length alone (5 bits each), so
 * a table costs {@code 5 × alphabet} bits; codes longer than {@link #MAX_LENGTH} bits are not used
 * (the caller stores the stream at fixed width instead).
 */
final class Huffman {

    static final int MAX_LENGTH = 24;
    private static final int LENGTH_BITS = 5;

    /** Code length per symbol (0 for symbols that never occur). */
    final int[] lengths;
    private final int[] codes;

    /** Canonical decoding: the first code of each length, how many there are, and symbols by (length, symbol). */
    private final int[] firstCode = new int[MAX_LENGTH + 1];
    private final int[] countOf = new int[MAX_LENGTH + 1];
    private final int[] firstIndex = new int[MAX_LENGTH + 1];
    private final int[] sorted;

    private Huffman(int[] lengths) {
        this.lengths = lengths;
        this.codes = canonical(lengths);
        int used = 0;
        for (int len : lengths) {
            used += len > 0 ? 1 : 0;
        }
        sorted = new int[used];
        int k = 0;
        for (int len = 1; len <= MAX_LENGTH; len++) {
            firstIndex[len] = k;
            firstCode[len] = -1;
            for (int s = 0; s < lengths.length; s++) {
                if (lengths[s] == len) {
                    if (countOf[len]++ == 0) {
                        firstCode[len] = codes[s];
                    }
                    sorted[k++] = s;
                }
            }
        }
    }

    /** The optimal code for these symbol counts, or null if some code would exceed {@link #MAX_LENGTH}. */
    static Huffman of(int[] symbols, int alphabet) {
        long[] freq = new long[alphabet];
        for (int s : symbols) {
            freq[s]++;
        }
        int[] lengths = new int[alphabet];
        PriorityQueue<long[]> queue = new PriorityQueue<>((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0])
                : Long.compare(a[1], b[1]));
        // node: {weight, id}; ids below alphabet are leaves
        int[] parent = new int[2 * alphabet];
        int next = alphabet;
        for (int s = 0; s < alphabet; s++) {
            if (freq[s] > 0) {
                queue.add(new long[] {freq[s], s});
            }
        }
        if (queue.size() == 1) {
            lengths[(int) queue.peek()[1]] = 1;
            return new Huffman(lengths);
        }
        while (queue.size() > 1) {
            long[] a = queue.poll();
            long[] b = queue.poll();
            parent[(int) a[1]] = next;
            parent[(int) b[1]] = next;
            queue.add(new long[] {a[0] + b[0], next++});
        }
        int root = next - 1;
        for (int s = 0; s < alphabet; s++) {
            if (freq[s] > 0) {
                int depth = 0;
                for (int node = s; node != root; node = parent[node]) {
                    depth++;
                }
                if (depth > MAX_LENGTH) {
                    return null;
                }
                lengths[s] = depth;
            }
        }
        return new Huffman(lengths);
    }

    /** Codes assigned in order of (length, symbol): the table needs only the lengths. */
    private static int[] canonical(int[] lengths) {
        int[] codes = new int[lengths.length];
        int code = 0;
        for (int len = 1; len <= MAX_LENGTH; len++) {
            for (int s = 0; s < lengths.length; s++) {
                if (lengths[s] == len) {
                    codes[s] = code++;
                }
            }
            code <<= 1;
        }
        return codes;
    }

    /** Bits the symbols take coded, table excluded. */
    long codedBits(int[] symbols) {
        long bits = 0;
        for (int s : symbols) {
            bits += lengths[s];
        }
        return bits;
    }

    static long tableBits(int alphabet) {
        return (long) LENGTH_BITS * alphabet;
    }

    void writeTable(Bits.Writer out) {
        for (int len : lengths) {
            out.write(len, LENGTH_BITS);
        }
    }

    void encode(int[] symbols, Bits.Writer out) {
        for (int s : symbols) {
            out.write(codes[s], lengths[s]);
        }
    }

    static Huffman readTable(Bits.Reader in, int alphabet) throws IOException {
        int[] lengths = new int[alphabet];
        for (int s = 0; s < alphabet; s++) {
            lengths[s] = in.read(LENGTH_BITS);
            if (lengths[s] > MAX_LENGTH) {
                throw new IOException("Huffman code length " + lengths[s] + " above " + MAX_LENGTH);
            }
        }
        return new Huffman(lengths);
    }

    int decode(Bits.Reader in) throws IOException {
        int code = 0;
        for (int len = 1; len <= MAX_LENGTH; len++) {
            code = (code << 1) | in.bit();
            if (countOf[len] > 0 && code - firstCode[len] < countOf[len] && code >= firstCode[len]) {
                return sorted[firstIndex[len] + code - firstCode[len]];
            }
        }
        throw new IOException("no Huffman code matches the stream");
    }
}
