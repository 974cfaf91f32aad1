package dev.distill.core.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.distill.core.SettingException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The pruning settings are the one home of their rules, and each refusal names its config key. */
class PruneSettingsTest {

    private static PruneSettings settings(PruneSettings.Method method, MagnitudePruner.Scope scope, double sparsity,
            Map<String, Double> layers, PruneSettings.Schedule schedule) {
        return new PruneSettings(method, scope, sparsity, layers, false, false, schedule, 2, 3, null, 0, 0, 1, 10,
                StructuredPruner.Norm.L1);
    }

    @Test
    void structuredPruningIsPerLayerAndOneShotForJavaCallersToo() {
        SettingException scope = assertThrows(SettingException.class, () -> settings(PruneSettings.Method.STRUCTURED,
                MagnitudePruner.Scope.GLOBAL, 0.5, Map.of(), PruneSettings.Schedule.ONE_SHOT));
        assertEquals("scope", scope.key());
        SettingException schedule = assertThrows(SettingException.class, () -> settings(
                PruneSettings.Method.STRUCTURED, MagnitudePruner.Scope.LAYER, 0.5, Map.of(),
                PruneSettings.Schedule.ITERATIVE));
        assertEquals("schedule", schedule.key());
        assertEquals("structured pruning is one_shot (prune, rebuild smaller, fine-tune)", schedule.getMessage());
    }

    @Test
    void aSparsityOutOfRangeNamesItsKeyEvenForOneLayer() {
        SettingException whole = assertThrows(SettingException.class, () -> settings(PruneSettings.Method.MAGNITUDE,
                MagnitudePruner.Scope.LAYER, 1.0, Map.of(), PruneSettings.Schedule.ONE_SHOT));
        assertEquals("sparsity", whole.key());
        assertEquals("sparsity must be in [0, 1) (0.8 prunes 80%), got 1.0", whole.getMessage());
        SettingException layer = assertThrows(SettingException.class, () -> settings(PruneSettings.Method.MAGNITUDE,
                MagnitudePruner.Scope.LAYER, 0.5, Map.of("dense_0", -0.1), PruneSettings.Schedule.ONE_SHOT));
        assertEquals("layers.dense_0", layer.key());
    }
}
