package dev.distill.runner.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class BusyMachineTest {

    @Test
    void busyMachineWithSeveralOpenMpThreadsIsWarnedAboutNamingTheLoadAndTheFix() {
        String w = BusyMachine.warning(4.5, 2, null).orElseThrow();
        assertTrue(w.contains("load average 4.5 on 2 cores") && w.contains("2 OpenMP threads")
                && w.contains("OMP_NUM_THREADS=1"), w);
        assertTrue(BusyMachine.warning(2.0, 2, "4").orElseThrow().contains("4 OpenMP threads"));
    }

    @Test
    void quietMachineOrOneThreadOrUnknownLoadGivesNoWarning() {
        assertEquals(Optional.empty(), BusyMachine.warning(1.2, 2, null));
        assertEquals(Optional.empty(), BusyMachine.warning(9.0, 2, "1"));
        assertEquals(Optional.empty(), BusyMachine.warning(Double.NaN, 2, null));
    }

    @Test
    void unreadableThreadSettingIsNamed() {
        assertTrue(BusyMachine.warning(0.1, 2, "two").orElseThrow().contains("OMP_NUM_THREADS='two'"));
    }
}
