package dev.distill.models.nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Locale;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The CLI's JavaCPP setting: the per-allocation resident-size check off, unless the user set it. */
class JavaCppSettingsTest {

    private static final String LOWER = JavaCppSettings.MAX_PHYSICAL_BYTES.toLowerCase(Locale.ROOT);
    private String saved;
    private String savedLower;

    @BeforeEach
    void clear() {
        saved = System.clearProperty(JavaCppSettings.MAX_PHYSICAL_BYTES);
        savedLower = System.clearProperty(LOWER);
    }

    @AfterEach
    void restore() {
        System.clearProperty(JavaCppSettings.MAX_PHYSICAL_BYTES);
        System.clearProperty(LOWER);
        if (saved != null) {
            System.setProperty(JavaCppSettings.MAX_PHYSICAL_BYTES, saved);
        }
        if (savedLower != null) {
            System.setProperty(LOWER, savedLower);
        }
    }

    @Test
    void withNothingSetTheResidentSizeCheckIsTurnedOff() {
        JavaCppSettings.prepare();
        assertEquals("0", System.getProperty(JavaCppSettings.MAX_PHYSICAL_BYTES));
    }

    @Test
    void aValueTheUserSetIsKeptInEitherSpelling() {
        System.setProperty(LOWER, "7g");
        JavaCppSettings.prepare();
        assertNull(System.getProperty(JavaCppSettings.MAX_PHYSICAL_BYTES));
        assertEquals("7g", System.getProperty(LOWER));
        System.clearProperty(LOWER);
        System.setProperty(JavaCppSettings.MAX_PHYSICAL_BYTES, "9g");
        JavaCppSettings.prepare();
        assertEquals("9g", System.getProperty(JavaCppSettings.MAX_PHYSICAL_BYTES));
    }
}
