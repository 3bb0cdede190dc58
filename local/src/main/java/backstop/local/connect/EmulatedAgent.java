package backstop.local.connect;

import java.time.Instant;

/** A user (agent) of an emulated instance. Mutable only through {@link ConnectEmulator} (under its lock). */
public final class EmulatedAgent {
    final String id;
    final String username;
    final String firstName;
    final String lastName;
    final String routingProfileId;
    String statusId;
    Instant statusStart;
    /** Set by PutUserStatus while the agent is on a contact; applied when the contact ends. */
    String nextStatusId;
    /** The live contact, or null. */
    String contactId;
    Instant contactStart;
    Instant lastModified;

    EmulatedAgent(String id, String username, String firstName, String lastName, String routingProfileId,
                  String statusId, Instant now) {
        this.id = id;
        this.username = username;
        this.firstName = firstName;
        this.lastName = lastName;
        this.routingProfileId = routingProfileId;
        this.statusId = statusId;
        this.statusStart = now;
        this.lastModified = now;
    }

    public String id() { return id; }
    public String username() { return username; }
    public String routingProfileId() { return routingProfileId; }
}
