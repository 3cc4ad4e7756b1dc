package dev.moe.loss;

import static dev.moe.loss.LossFixtures.assertGradientMatchesFiniteDifferences;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.moe.loss.LossFixtures.Case;
import dev.moe.routing.ScoreFunction;

/** Every loss's analytic gradient against central finite differences, selection held fixed (docs/specification.md §f). */
class GradientCheckTest {

    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (ScoreFunction fn : ScoreFunction.values()) {
            for (long seed = 1; seed <= 10; seed++) {
                b.add(Arguments.of(fn, seed));
            }
        }
        return b.build();
    }

    @ParameterizedTest(name = "{0} seed {1}")
    @MethodSource("cases")
    void expertBalance(ScoreFunction fn, long seed) {
        Case c = LossFixtures.randomCase(seed, fn);
        assertGradientMatchesFiniteDifferences(new ExpertBalanceLoss(1.0, fn), c.z(), c.tokens(), c.selection());
        assertGradientMatchesFiniteDifferences(new ExpertBalanceLoss(AuxLossCoefficients.V2_EXPERT, fn), c.z(), c.tokens(),
                c.selection());
    }

    @ParameterizedTest(name = "{0} seed {1}")
    @MethodSource("cases")
    void deviceBalance(ScoreFunction fn, long seed) {
        Case c = LossFixtures.randomCase(seed, fn);
        assertGradientMatchesFiniteDifferences(new DeviceBalanceLoss(1.0, c.devices(), fn), c.z(), c.tokens(), c.selection());
    }

    @ParameterizedTest(name = "{0} seed {1}")
    @MethodSource("cases")
    void communicationBalance(ScoreFunction fn, long seed) {
        Case c = LossFixtures.randomCase(seed, fn);
        assertGradientMatchesFiniteDifferences(new CommunicationBalanceLoss(1.0, c.devices(), c.devicesPerToken(), fn), c.z(),
                c.tokens(), c.selection());
    }

    @ParameterizedTest(name = "{0} seed {1}")
    @MethodSource("cases")
    void sequenceBalance(ScoreFunction fn, long seed) {
        Case c = LossFixtures.randomCase(seed, fn);
        SequenceBalanceLoss loss = new SequenceBalanceLoss(1.0, c.experts(), c.topk(), fn);
        ExpertSelection sel = loss.select(c.z(), c.tokens(), null);
        assertGradientMatchesFiniteDifferences(loss, c.z(), c.tokens(), sel);
        SequenceBalanceLoss v3 = new SequenceBalanceLoss(AuxLossCoefficients.V3_SEQUENCE, c.experts(), c.topk(), fn);
        assertGradientMatchesFiniteDifferences(v3, c.z(), c.tokens(), sel);
    }

    @ParameterizedTest(name = "{0} seed {1}")
    @MethodSource("cases")
    void sumOfTheV2Losses(ScoreFunction fn, long seed) {
        Case c = LossFixtures.randomCase(seed, fn);
        AuxLoss sum = AuxLosses.sum(new ExpertBalanceLoss(0.003, fn), new DeviceBalanceLoss(0.05, c.devices(), fn),
                new CommunicationBalanceLoss(0.02, c.devices(), c.devicesPerToken(), fn));
        assertGradientMatchesFiniteDifferences(sum, c.z(), c.tokens(), c.selection());
    }

    /** Dropped assignments (id −1) count for nothing, and the gradient still matches. */
    @ParameterizedTest(name = "{0} seed {1}")
    @MethodSource("cases")
    void selectionsWithDroppedAssignments(ScoreFunction fn, long seed) {
        Case c = LossFixtures.randomCase(seed, fn);
        DropResult d = CapacityDropper.deviceLevel(c.experts(), c.devices(), 0.6).apply(c.routing());
        ExpertSelection sel = new ExpertSelection(c.tokens(), c.experts(), c.topk(), d.ids());
        assertEquals(d.totalDropped(), c.tokens() * c.topk() - java.util.Arrays.stream(sel.counts()).sum());
        // Dropping can even out the device loads, so the softmax device gradients may vanish here.
        assertGradientMatchesFiniteDifferences(new ExpertBalanceLoss(1.0, fn), c.z(), c.tokens(), sel);
        assertGradientMatchesFiniteDifferences(new DeviceBalanceLoss(1.0, c.devices(), fn), c.z(), c.tokens(), sel, true);
        assertGradientMatchesFiniteDifferences(new CommunicationBalanceLoss(1.0, c.devices(), 2, fn), c.z(), c.tokens(), sel,
                true);
    }
}
