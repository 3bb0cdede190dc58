package backstop.core.fuzz;

import java.util.List;
import java.util.random.RandomGenerator;

/**
 * The values one fuzz case is made of, drawn from that case's own seeded generator (see {@link FuzzRun}).
 * Sizes land on the ends of their range one time in four: empty and maximal input is where parsers break.
 */
public final class Draw {
    /** JSON structure and escapes, NUL, a right-to-left override, a zero-width space, a BOM, lone surrogates. */
    private static final String TRICKY = "\"\\{}[]:,\u0000\u202e\u200b\ufeff\ud800\udc00";

    private final RandomGenerator random;

    Draw(RandomGenerator random) {
        this.random = random;
    }

    /** A number from min to max, both included. */
    public int between(int min, int max) {
        return (int) random.nextLong(min, (long) max + 1);
    }

    public boolean coin() {
        return random.nextBoolean();
    }

    /** Any int; half the time one of its edges (0, 1, -1, the extremes). */
    public int anyInt() {
        return coin() ? oneOf(0, 1, -1, Integer.MIN_VALUE, Integer.MAX_VALUE) : random.nextInt();
    }

    @SafeVarargs
    public final <T> T oneOf(T... values) {
        return values[random.nextInt(values.length)];
    }

    public <T> T oneOf(List<T> values) {
        return values.get(random.nextInt(values.size()));
    }

    /** A size from min to max: min one time in eight, max one time in eight. */
    public int size(int min, int max) {
        return switch (random.nextInt(8)) {
            case 0 -> min;
            case 1 -> max;
            default -> between(min, max);
        };
    }

    /** Text of any UTF-16 chars, each printable ASCII, a control character, a tricky one or any char at all. */
    public String text(int minLength, int maxLength) {
        StringBuilder text = new StringBuilder();
        for (int i = size(minLength, maxLength); i > 0; i--) {
            text.append(switch (random.nextInt(4)) {
                case 0 -> (char) between(0x20, 0x7e);
                case 1 -> coin() ? (char) between(0x00, 0x1f) : '\u007f';
                case 2 -> TRICKY.charAt(random.nextInt(TRICKY.length()));
                default -> (char) random.nextInt(0x10000);
            });
        }
        return text.toString();
    }

    /** Text of the chars from first to last, both included. */
    public String text(int minLength, int maxLength, char first, char last) {
        StringBuilder alphabet = new StringBuilder();
        for (char c = first; c <= last; c++) {
            alphabet.append(c);
        }
        return text(minLength, maxLength, alphabet.toString());
    }

    /** Text of the alphabet's chars. */
    public String text(int minLength, int maxLength, String alphabet) {
        StringBuilder text = new StringBuilder();
        for (int i = size(minLength, maxLength); i > 0; i--) {
            text.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return text.toString();
    }

    /** Any bytes, most of them not UTF-8. */
    public byte[] bytes(int maxSize) {
        byte[] bytes = new byte[size(0, maxSize)];
        random.nextBytes(bytes);
        return bytes;
    }
}
