package dev.distill.core.chain;

import java.util.Locale;

/** What a model is in the experiment; {@code BASELINE} is a student trained without distillation. */
public enum Role {
    TEACHER, ASSISTANT, STUDENT, BASELINE;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
