package backstop.core.fuzz;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FuzzRunTest {
    static final Function<Draw, String> DRAW = draw -> draw.text(0, 20);

    static List<String> drawn(FuzzRun run, int cases) {
        List<String> inputs = new ArrayList<>();
        run.check(cases, DRAW, inputs::add);
        return inputs;
    }

    @Test
    void check_should_drawTheSameInputs_when_theSeedIsTheSame() {
        List<String> first = drawn(new FuzzRun(7, OptionalInt.empty()), 200);

        assertThat(drawn(new FuzzRun(7, OptionalInt.empty()), 200)).isEqualTo(first);
        assertThat(drawn(new FuzzRun(8, OptionalInt.empty()), 200)).isNotEqualTo(first);
        assertThat(first.stream().distinct().count()).as("each case draws from its own generator").isGreaterThan(150);
    }

    @Test
    void check_should_runThatCaseAlone_withTheInputItHadInTheWholeRun() {
        List<String> whole = drawn(new FuzzRun(7, OptionalInt.empty()), 200);

        assertThat(drawn(new FuzzRun(7, OptionalInt.of(123)), 200)).containsExactly(whole.get(123));
    }

    @Test
    void check_should_nameTheSeedTheCaseAndTheInput_when_aCaseFails() {
        List<String> checked = new ArrayList<>();

        assertThatThrownBy(() -> new FuzzRun(7, OptionalInt.empty()).check(200, draw -> draw.between(0, 1_000_000), n -> {
            checked.add(String.valueOf(n));
            assertThat(checked).hasSizeLessThan(51);
        }))
                .isInstanceOf(AssertionError.class)
                .hasMessageStartingWith("fuzz case 50 of 200 failed, seed 7 (this run again: -Dfuzz.seed=7; this case alone: -Dfuzz.seed=7 -Dfuzz.case=50)")
                .hasMessageContaining("input: " + checked.get(50))
                .hasCauseInstanceOf(AssertionError.class);
        assertThat(checked).as("the run stops at the first failure").hasSize(51);
    }

    @Test
    void check_should_refuseACaseTheRunDoesNotHave() {
        assertThatThrownBy(() -> new FuzzRun(7, OptionalInt.of(200)).check(200, DRAW, input -> { }))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("fuzz.case 200 is not one of this tier's 200 cases (0 to 199)");
    }

    @Test
    void shown_should_escapeWhatIsNotPrintableAscii_andCutALongMiddle() {
        assertThat(FuzzRun.shown("a\u0000\"\ud800\n")).isEqualTo("a\\u0000\"\\ud800\\u000a");
        assertThat(FuzzRun.shown("h".repeat(1_500) + "m".repeat(3_000) + "t".repeat(500)))
                .isEqualTo("h".repeat(1_500) + "[... 3000 chars cut ...]" + "t".repeat(500));
    }

    @Test
    void draw_should_reachBothEndsOfASize_andEveryKindOfChar() {
        List<String> texts = drawn(new FuzzRun(7, OptionalInt.empty()), 2_000);

        assertThat(texts).anyMatch(String::isEmpty).anyMatch(t -> t.length() == 20)
                .anyMatch(t -> t.chars().anyMatch(c -> c < 0x20))
                .anyMatch(t -> t.chars().anyMatch(c -> c >= 0xd800 && c <= 0xdfff))
                .anyMatch(t -> t.contains("\""))
                .anyMatch(t -> t.chars().anyMatch(c -> c > 0x7f && (c < 0xd800 || c > 0xdfff)));
    }
}
