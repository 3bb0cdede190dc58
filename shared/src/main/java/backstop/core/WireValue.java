package backstop.core;

import java.util.Optional;

/** An enum constant with the word it is stored and sent as ("tab-closed", "not-needed", "stay-offline"...). */
public interface WireValue {
    String value();

    /** The constant of {@code type} whose word is {@code text}, if any. */
    static <E extends Enum<E> & WireValue> Optional<E> find(Class<E> type, String text) {
        for (E constant : type.getEnumConstants()) {
            if (constant.value().equals(text)) {
                return Optional.of(constant);
            }
        }
        return Optional.empty();
    }
}
