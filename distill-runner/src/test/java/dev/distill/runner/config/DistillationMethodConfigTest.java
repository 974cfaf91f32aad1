package dev.distill.runner.config;

import dev.distill.core.chain.DistillationSettings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.loss.DecoupledKdLoss;
import dev.distill.core.loss.DistillationLoss;
import dev.distill.runner.testing.CliRun;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code method:} in a distillation block: kd (the default) or dkd, their keys, defaults and one-line errors. */
class DistillationMethodConfigTest {

    private static ExperimentConfig digits(String... overrides) {
        return ConfigLoader.load(CliRun.repoFile("configs/digits-takd.yaml"), List.of(overrides));
    }

    @Test
    void withoutAMethodADistillationBlockIsVanillaKd() {
        DistillationSettings d = digits().distillation();
        assertEquals(DistillationSettings.Method.KD, d.method());
        assertEquals(new DistillationLoss(1, 0.5, 0.5), d.loss());
    }

    @Test
    void dkdTakesThePapersDefaultsForWhatItDoesNotSet() {
        // the shipped block sets soft_weight, which dkd refuses: replace the block whole
        DistillationSettings d = digits("distillation={method: dkd, beta: 2}").distillation();
        assertEquals(DistillationSettings.dkd(4, 1, 2, 1), d);
        assertEquals(new DecoupledKdLoss(4, 1, 2, 1), assertInstanceOf(DecoupledKdLoss.class, d.loss()));
        assertEquals("dkd T=4.0, alpha 1.0, beta 2.0, hard 1.0", d.describe());
        assertEquals(null, d.softWeightOrNull());
    }

    @Test
    void aChainsBlockInheritsTheTopBlockOfItsOwnMethod() {
        ExperimentConfig c = digits("distillation={method: dkd, temperature: 2, alpha: 0.5}",
                "chains=[{models: [teacher, student], distillation: {beta: 3}}, {models: [teacher, assistant, student],"
                        + " distillation: {method: kd}}]");
        assertEquals(DistillationSettings.dkd(2, 0.5, 3, 1), c.chains().get(0).distillation());
        // another method starts from that method's defaults, not from the top block's numbers
        assertEquals(DistillationSettings.DEFAULTS, c.chains().get(1).distillation());
    }

    @Test
    void anUnknownMethodIsOneLineNamingTheKnownOnes() {
        ConfigException e = assertThrows(ConfigException.class, () -> digits("distillation.method=fitnets"));
        assertTrue(e.getMessage().contains("unknown distillation method 'fitnets'; known: kd, dkd"), e.getMessage());
        assertTrue(e.getMessage().contains("method"), e.getMessage());
    }

    @Test
    void keysOfTheOtherMethodAreRefusedNotIgnored() {
        ConfigException soft = assertThrows(ConfigException.class, () -> digits("distillation.method=dkd"));
        assertTrue(soft.getMessage().contains("soft_weight belongs to method kd"), soft.getMessage());
        ConfigException beta = assertThrows(ConfigException.class, () -> digits("distillation.beta=8"));
        assertTrue(beta.getMessage().contains("beta belongs to method dkd"), beta.getMessage());
    }

    @Test
    void negativeOrAllZeroDkdWeightsAreRefused() {
        ConfigException negative = assertThrows(ConfigException.class,
                () -> digits("distillation={method: dkd, beta: -1}"));
        assertTrue(negative.getMessage().contains("beta") && negative.getMessage().contains("non-negative"),
                negative.getMessage());
        ConfigException zero = assertThrows(ConfigException.class,
                () -> digits("distillation={method: dkd, alpha: 0, beta: 0, hard_weight: 0}"));
        assertTrue(zero.getMessage().contains("must not all be zero"), zero.getMessage());
    }
}
