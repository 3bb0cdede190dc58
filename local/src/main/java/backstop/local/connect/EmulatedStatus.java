package backstop.local.connect;

import java.time.Instant;

/** An agent status of an emulated instance. Mutable only through {@link ConnectEmulator} (under its lock). */
public final class EmulatedStatus {
    final String id;
    String name;
    final AgentStatusType type;
    final int displayOrder;
    Instant lastModified;

    EmulatedStatus(String id, String name, AgentStatusType type, int displayOrder, Instant lastModified) {
        this.id = id;
        this.name = name;
        this.type = type;
        this.displayOrder = displayOrder;
        this.lastModified = lastModified;
    }

    public String id() { return id; }
    public String name() { return name; }
    public AgentStatusType type() { return type; }
}
