package dev.distill.core.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Zhu &amp; Gupta's s_t = s_f + (s_i − s_f)(1 − (t − t0)/(nΔt))³ at chosen steps. */
class PruningScheduleTest {

    // t0 = 100, n = 10 updates of Δt = 20 steps: the end is step 300
    final PruningSchedule schedule = new PruningSchedule(0.1, 0.9, 100, 300, 20);

    @Test
    void startsAtTheInitialAndEndsAtTheFinalSparsity() {
        assertEquals(0.1, schedule.sparsityAt(0), 0.0);
        assertEquals(0.1, schedule.sparsityAt(100), 1e-12);
        assertEquals(0.9, schedule.sparsityAt(300), 1e-12);
        assertEquals(0.9, schedule.sparsityAt(10_000), 0.0);
    }

    @Test
    void followsTheCubeInBetween() {
        // half way: 0.9 + (0.1 - 0.9) * 0.5^3 = 0.8
        assertEquals(0.8, schedule.sparsityAt(200), 1e-12);
        // a quarter: 0.9 - 0.8 * 0.75^3 = 0.5625
        assertEquals(0.5625, schedule.sparsityAt(150), 1e-12);
        // three quarters: 0.9 - 0.8 * 0.25^3 = 0.8875
        assertEquals(0.8875, schedule.sparsityAt(250), 1e-12);
        for (long t = 100; t < 300; t++) {
            assertTrue(schedule.sparsityAt(t + 1) >= schedule.sparsityAt(t), "never decreases at " + t);
        }
    }

    @Test
    void masksAreUpdatedEveryDeltaTStepsBetweenStartAndEnd() {
        assertFalse(schedule.updatesAt(80));
        assertTrue(schedule.updatesAt(100));
        assertFalse(schedule.updatesAt(110));
        assertTrue(schedule.updatesAt(120));
        assertTrue(schedule.updatesAt(300));
        assertFalse(schedule.updatesAt(320));
        assertTrue(new PruningSchedule(0, 0.5, 0, 25, 10).updatesAt(25), "the last step always updates");
    }

    @Test
    void endBeforeStartAndSparsityOutOfRangeAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new PruningSchedule(0, 0.8, 100, 100, 10));
        assertThrows(IllegalArgumentException.class, () -> new PruningSchedule(0, 0.8, 100, 50, 10));
        assertThrows(IllegalArgumentException.class, () -> new PruningSchedule(0, 1.0, 0, 50, 10));
        assertThrows(IllegalArgumentException.class, () -> new PruningSchedule(0.5, 0.4, 0, 50, 10));
        assertThrows(IllegalArgumentException.class, () -> new PruningSchedule(0, 0.5, 0, 50, 0));
    }
}
