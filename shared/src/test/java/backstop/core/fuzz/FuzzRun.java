package backstop.core.fuzz;

import java.util.OptionalInt;
import java.util.function.Function;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

/**
 * A fuzz tier's run: a fixed number of cases drawn from one seed, so the same seed draws the same inputs and a
 * failure is reproduced by passing its seed back. Each case draws from its own generator, seeded by the n-th
 * value of the run's, so one case can also be run alone. From the command line (Maven passes -D on to the tests):
 * <pre>
 *   -Dfuzz.seed=N   draw from seed N instead of {@link #DEFAULT_SEED}
 *   -Dfuzz.case=I   run case I of that seed alone
 * </pre>
 */
public record FuzzRun(long seed, OptionalInt onlyCase) {
    public static final long DEFAULT_SEED = 20261203L;
    /** An algorithm the JDK specifies, so a seed draws the same values on every JDK. */
    private static final RandomGeneratorFactory<RandomGenerator> ALGORITHM = RandomGeneratorFactory.of("L64X128MixRandom");
    private static final int SHOWN_HEAD = 1_500;
    private static final int SHOWN_TAIL = 500;

    @FunctionalInterface
    public interface Check<T> {
        void accept(T input) throws Exception;
    }

    public static FuzzRun fromSystemProperties() {
        String seed = System.getProperty("fuzz.seed");
        String only = System.getProperty("fuzz.case");
        return new FuzzRun(seed == null ? DEFAULT_SEED : Long.parseLong(seed.strip()),
                only == null ? OptionalInt.empty() : OptionalInt.of(Integer.parseInt(only.strip())));
    }

    /**
     * Draws and checks the cases in order. The first that fails ends the run with an error naming the seed, the
     * case, the flags that run either again, and the input.
     */
    public <T> void check(int cases, Function<Draw, T> draw, Check<T> check) {
        if (onlyCase.isPresent() && (onlyCase.getAsInt() < 0 || onlyCase.getAsInt() >= cases)) {
            throw new IllegalArgumentException("fuzz.case " + onlyCase.getAsInt() + " is not one of this tier's " + cases + " cases (0 to " + (cases - 1) + ")");
        }
        RandomGenerator caseSeeds = ALGORITHM.create(seed);
        for (int i = 0; i < cases; i++) {
            long caseSeed = caseSeeds.nextLong();
            if (onlyCase.isPresent() && onlyCase.getAsInt() != i) {
                continue;
            }
            T input = draw.apply(new Draw(ALGORITHM.create(caseSeed)));
            try {
                check.accept(input);
            } catch (Throwable failure) { // a StackOverflowError from deeply nested input is a finding like any other
                throw new AssertionError(("fuzz case %d of %d failed, seed %d (this run again: -Dfuzz.seed=%d; this case alone:"
                        + " -Dfuzz.seed=%d -Dfuzz.case=%d)%ninput: %s%nfailure: %s").formatted(i, cases, seed, seed, seed, i,
                        shown(String.valueOf(input)), failure), failure);
            }
        }
    }

    /** The input in printable ASCII, other chars as Java escapes, its middle cut when it is long. */
    static String shown(String input) {
        StringBuilder shown = new StringBuilder();
        for (char c : input.toCharArray()) {
            if (c >= 0x20 && c < 0x7f) {
                shown.append(c);
            } else {
                shown.append("\\u%04x".formatted((int) c));
            }
        }
        if (shown.length() <= SHOWN_HEAD + SHOWN_TAIL) {
            return shown.toString();
        }
        return shown.substring(0, SHOWN_HEAD) + "[... " + (shown.length() - SHOWN_HEAD - SHOWN_TAIL) + " chars cut ...]"
                + shown.substring(shown.length() - SHOWN_TAIL);
    }
}
