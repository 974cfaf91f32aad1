package dev.distill.core.chain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.SettingException;
import org.junit.jupiter.api.Test;

/** A hint's own ranges, each refused at the key a hint block writes it under. */
class HintTest {

    @Test
    void aHintsValueOutOfRangeIsRefusedAtItsKey() {
        assertRefused("student_layer", "student_layer must be a layer index from 0, found -1",
                () -> new Hint(-1, 0, 0));
        assertRefused("teacher_layer", "teacher_layer must be a layer index from 0, found -2",
                () -> new Hint(0, -2, 0));
        assertRefused("epochs", "hint epochs must be 0 (the student's) or more, found -1", () -> new Hint(0, 0, -1));
        assertRefused("weight", "hint weight must be a non-negative number, found -0.5",
                () -> new Hint(0, 0, 0, Hint.Stage.JOINT, -0.5));
        assertRefused("epochs", "a joint hint trains with the link for the student's own epochs",
                () -> new Hint(0, 0, 3, Hint.Stage.JOINT, 1));
        assertEquals(7, new Hint(0, 0, 0).epochsFor(7), "0 epochs: the student's");
    }

    private static void assertRefused(String key, String message, org.junit.jupiter.api.function.Executable make) {
        SettingException e = assertThrows(SettingException.class, make);
        assertEquals(key, e.key());
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }
}
