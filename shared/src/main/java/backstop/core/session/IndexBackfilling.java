package backstop.core.session;

/**
 * A sparse index cannot be read yet: a table update added it and DynamoDB is still filling it from the table
 * (IndexStatus CREATING, Backfilling true), and it refuses every Query until the index is ACTIVE. CloudFormation
 * finishes the deploy before that, so the code that needs the index runs while it fills; the reconciler waits
 * for it instead of failing every run. Nothing was read or written.
 */
public final class IndexBackfilling extends RuntimeException {
    private final String index;

    public IndexBackfilling(String index, Throwable cause) {
        super("index " + index + " is backfilling", cause, false, false);
        this.index = index;
    }

    /** The index's name ({@link TableLayout#OPEN_SESSIONS_INDEX} or {@link TableLayout#DUE_TRANSITIONS_INDEX}). */
    public String index() {
        return index;
    }
}
