package catena.gateway.plan;

import java.util.List;
import java.util.Optional;

/**
 * A pipeline replica.
 *
 * @param index its index, >= 0, stable while the replica lives
 * @param epoch changes only when this replica's membership or wiring changes; never reused
 * @param slots its slots in ring order (slot i is stage i)
 */
public record ReplicaPlan(int index, long epoch, List<Slot> slots) {
    public ReplicaPlan {
        slots = List.copyOf(slots);
        for (int i = 0; i < slots.size(); i++) {
            if (slots.get(i).stage() != i) {
                throw new IllegalArgumentException("replica " + index + ": slot " + i + " has stage="
                        + slots.get(i).stage() + ", expected " + i + " (slots in ring order)");
            }
        }
    }

    /** The slot served by {@code workerId}, empty if that worker is not in this replica. */
    public Optional<Slot> slotOf(String workerId) {
        for (Slot slot : slots) {
            if (slot.workerId().equals(workerId)) {
                return Optional.of(slot);
            }
        }
        return Optional.empty();
    }
}
