package catena.gateway.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import catena.gateway.scaling.PoolScaler;
import catena.gateway.scaling.ScalingPolicy;
import catena.gateway.scaling.WorkerPool;
import catena.worker.actor.StageActor;
import catena.worker.config.NodeConfig;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The autoscaler actor reads the stages' reports (GetStats of every stage the Receptionist lists)
 * and applies the scaler's decisions to the pool, on a clock the test moves: queue time reported
 * by a stage scales the pool up by stages pods; idle reports bring it back to the minimum.
 */
class WorkerAutoscalerTest {
    private static final Instant T0 = Instant.parse("2026-12-04T08:00:00Z");
    private ActorSystem<Void> system;
    private final ExecutorService blocking = Executors.newSingleThreadExecutor();

    @AfterEach
    void stop() {
        if (system != null) {
            system.terminate();
            system.getWhenTerminated().toCompletableFuture().join();
        }
        blocking.shutdownNow();
    }

    /** A clock the test sets. */
    private static final class TestClock extends Clock {
        final AtomicReference<Instant> now = new AtomicReference<>(T0);

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now.get();
        }
    }

    private static final class FakePool implements WorkerPool {
        final AtomicInteger size = new AtomicInteger(2);
        final List<Integer> requests = new CopyOnWriteArrayList<>();

        @Override
        public int replicas() {
            return size.get();
        }

        @Override
        public void scaleTo(int replicas) {
            requests.add(replicas);
            size.set(replicas);
        }
    }

    /** A stage that answers GetStats with {@code waiting} sequences queued. */
    private static Behavior<StageActor.Command> stage(AtomicInteger waiting, int index) {
        return Behaviors.receive(StageActor.Command.class).onMessage(StageActor.GetStats.class, m -> {
            int w = waiting.get();
            m.replyTo().tell(new StageActor.StageStats(0, 1, index, index, index + 1, w > 0 ? 8 : 0, w, 0, 10, 64, 16,
                    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "f32", 0, 0));
            return Behaviors.same();
        }).build();
    }

    @Test
    void shouldScaleThePoolFromTheStagesReportsAsTheClockMoves() {
        TestClock clock = new TestClock();
        FakePool pool = new FakePool();
        AtomicInteger waiting = new AtomicInteger(3);
        ScalingPolicy policy = new ScalingPolicy(2, 1, 3, Duration.ofSeconds(5), 0.9, Duration.ofSeconds(30),
                Duration.ofSeconds(60), Duration.ofSeconds(120), Duration.ofSeconds(300));
        var settings = new WorkerAutoscaler.Settings(new PoolScaler(policy, 0, pool), Duration.ofMillis(50), blocking,
                clock);
        system = ActorSystem.create(Behaviors.setup(ctx -> {
            for (int i = 0; i < 2; i++) {
                var s = ctx.spawn(stage(waiting, i), "stage-" + i);
                ctx.getSystem().receptionist().tell(Receptionist.register(StageActor.SERVICE_KEY, s));
            }
            ctx.spawn(WorkerAutoscaler.create(settings), "autoscaler");
            return Behaviors.empty();
        }), "autoscaler-test", NodeConfig.embedded());

        // Queue seen at T0; nothing may change while the clock stands still.
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5)).until(() -> pool.requests.isEmpty());
        // Queue time 10 s >= 5 s: pressure, first seen now; it must last 30 s before a replica is added.
        clock.now.set(T0.plusSeconds(10));
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5)).until(() -> pool.requests.isEmpty());
        clock.now.set(T0.plusSeconds(40));
        await().atMost(Duration.ofSeconds(10)).until(() -> pool.requests.equals(List.of(4)));

        waiting.set(0);
        clock.now.set(T0.plusSeconds(100));
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5)).until(() -> pool.requests.size() == 1);
        // Idle since T0+100: due after 60 s idle and 300 s after the change at T0+40, i.e. at T0+340.
        clock.now.set(T0.plusSeconds(400));
        await().atMost(Duration.ofSeconds(10)).until(() -> pool.requests.equals(List.of(4, 2)));
    }
}
