package dev.distill.core;

/**
 * A setting out of its range, named by the key a config file gives it ({@code temperature},
 * {@code soft_weight}, ...), so that the config loader can point at the line without guessing from the
 * message. Thrown by the settings' own checks, the one home of each rule. Not final: a refusal that can
 * say more precisely where it is (the model at fault in a chain's list: {@code chain.ChainRefusal}) extends it.
 */
public class SettingException extends IllegalArgumentException {
    private final String key;

    public SettingException(String key, String message) {
        super(message);
        this.key = key;
    }

    /** The setting's key as a config file writes it. */
    public String key() {
        return key;
    }
}
