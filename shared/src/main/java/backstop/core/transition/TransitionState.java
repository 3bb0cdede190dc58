package backstop.core.transition;

/** PENDING until one of the end states; only PENDING transitions are in the due index. */
public enum TransitionState {
    PENDING, DONE, NOT_NEEDED, EXEMPT, FAILED;

    public boolean isFinal() {
        return this != PENDING;
    }
}
