package dev.distill.core.chain;

import dev.distill.core.SettingException;

/**
 * A chain that cannot train, refused by {@link ChainRules}: the key of the part at fault as a config file writes
 * it ({@code models}, {@code ensemble}, {@code student}, {@code mutual}, {@code born_again}; an automatic
 * assistant's own name), the index of the model in that key's list (or -1 for the key as a whole), and the
 * problem on its own, so that a config loader can place it at the very name. The message names the chain or the
 * assistant, for Java callers.
 */
public final class ChainRefusal extends SettingException {
    private final int index;
    private final String problem;

    ChainRefusal(String subject, String key, int index, String problem) {
        super(key, subject + ": " + problem);
        this.index = index;
        this.problem = problem;
    }

    ChainRefusal(Chain chain, String key, int index, String problem) {
        this((chain.kind() == Chain.Kind.SEQUENCE ? "chain" : chain.kind().label()) + " " + chain.models(), key,
                index, problem);
    }

    /** The position of the model at fault in the list under {@link #key()}, or -1 for the key as a whole. */
    public int index() {
        return index;
    }

    /** What is wrong and what would be right, without the chain's names (the config line shows them). */
    public String problem() {
        return problem;
    }
}
