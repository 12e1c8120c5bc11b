package catena.gateway.plan;

import java.util.List;

/** A replica: its index, its epoch (new whenever its membership or wiring changes), its slots in ring order. */
public record ReplicaPlan(int index, long epoch, List<Slot> slots) {
    public ReplicaPlan {
        slots = List.copyOf(slots);
    }

    /** Whether {@code workerId} holds one of its slots. */
    public boolean has(String workerId) {
        return slots.stream().anyMatch(s -> s.workerId().equals(workerId));
    }
}
