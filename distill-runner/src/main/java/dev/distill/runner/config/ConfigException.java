package dev.distill.runner.config;

import dev.distill.core.DistillException;

/**
 * A config that cannot be used, located as precisely as the YAML allows: the file, the line, the
 * key path, and what would be right. The message is one line, ready for the console.
 */
public final class ConfigException extends DistillException {

    public ConfigException(String location, String keyPath, String problem) {
        super(location + ": " + (keyPath.isEmpty() ? "" : keyPath + ": ") + problem);
    }
}
