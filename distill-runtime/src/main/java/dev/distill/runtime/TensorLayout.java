package dev.distill.runtime;

/**
 * What one tensor costs in a packed file: its values, how many stored, bits per code, the index width
 * and codings, and its bytes as float32 against as stored (streams and parameters, not its few header
 * bytes).
 */
public final class TensorLayout {

    private final String key;
    private final String kind;
    private final int bits;
    private final long values;
    private final long stored;
    private final int indexBits;
    private final boolean huffmanIndices;
    private final boolean huffmanCodes;
    private final long floatBytes;
    private final long storedBytes;

    TensorLayout(String key, String kind, int bits, long values, long stored, int indexBits, boolean huffmanIndices,
            boolean huffmanCodes, long floatBytes, long storedBytes) {
        this.key = key;
        this.kind = kind;
        this.bits = bits;
        this.values = values;
        this.stored = stored;
        this.indexBits = indexBits;
        this.huffmanIndices = huffmanIndices;
        this.huffmanCodes = huffmanCodes;
        this.floatBytes = floatBytes;
        this.storedBytes = storedBytes;
    }

    public String key() {
        return key;
    }

    /** "float", "linear", "kmeans" or "binary". */
    public String kind() {
        return kind;
    }

    public int bits() {
        return bits;
    }

    public long values() {
        return values;
    }

    public long stored() {
        return stored;
    }

    public int indexBits() {
        return indexBits;
    }

    public boolean huffmanIndices() {
        return huffmanIndices;
    }

    public boolean huffmanCodes() {
        return huffmanCodes;
    }

    public long floatBytes() {
        return floatBytes;
    }

    public long storedBytes() {
        return storedBytes;
    }
}
