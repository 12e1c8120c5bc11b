package catena.gateway.metrics;

import catena.worker.actor.StageActor.StageStats;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.ToDoubleFunction;

/**
 * Each stage's last report as meters labelled {@code replica}, {@code stage} and {@code layers}.
 * {@link #update} is called with fresh reports before each scrape; the meters of a stage that no
 * longer reports are removed, so a re-planned cluster shows no stale stages.
 */
public final class StageMetrics {
    private final MeterRegistry registry;
    private final Map<String, Entry> stages = new HashMap<>();

    private static final class Entry {
        volatile StageStats last;
        final List<Meter> meters = new ArrayList<>();
    }

    public StageMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** Takes {@code reports} as the stages' state now. */
    public synchronized void update(List<StageStats> reports) {
        Set<String> seen = new HashSet<>();
        for (StageStats s : reports) {
            String key = s.replica() + "/" + s.stageIndex() + "/" + s.fromLayer() + "-" + s.toLayerExclusive();
            seen.add(key);
            Entry e = stages.get(key);
            if (e == null) {
                e = register(s);
                stages.put(key, e);
            }
            e.last = s;
        }
        stages.entrySet().removeIf(en -> {
            if (seen.contains(en.getKey())) {
                return false;
            }
            en.getValue().meters.forEach(registry::remove);
            return true;
        });
    }

    private Entry register(StageStats first) {
        Entry e = new Entry();
        e.last = first;
        Tags tags = Tags.of("replica", Integer.toString(first.replica()), "stage", Integer.toString(first.stageIndex()),
                "layers", first.fromLayer() + "-" + first.toLayerExclusive());
        gauge(e, tags, "catena.kv.cache.usage.perc", "KV-cache blocks in use, as a fraction (1 = full; idle"
                + " prefix-cache blocks count as free).",
                s -> s.kvBlocksTotal() == 0 ? 0 : (double) s.kvBlocksUsed() / s.kvBlocksTotal());
        gauge(e, tags, "catena.stage.kv.blocks.used", "KV-cache blocks in use.", StageStats::kvBlocksUsed);
        gauge(e, tags, "catena.stage.kv.blocks.total", "KV-cache blocks the stage's budget holds.",
                StageStats::kvBlocksTotal);
        gauge(e, tags, "catena.stage.kv.cache.bytes", "Bytes of KV cache the stage holds.", StageStats::cacheBytes);
        gauge(e, tags, "catena.stage.sequences", "Sequences whose KV cache the stage holds.", StageStats::sequences);
        gauge(e, tags, "catena.stage.waiting", "Sequences waiting for admission (KV room) at the stage.",
                StageStats::waiting);
        gauge(e, tags, "catena.stage.max.batch.sequences", "Most sequences in one forward pass.",
                StageStats::maxBatchSequences);
        counter(e, tags, "catena.stage.batches", "Forward passes run.", StageStats::batches);
        counter(e, tags, "catena.stage.rows", "Rows (tokens) run through the stage's layers.", StageStats::rows);
        counter(e, tags, "catena.stage.multi.sequence.batches", "Forward passes over more than one sequence.",
                StageStats::multiSequenceBatches);
        counter(e, tags, "catena.stage.preemptions", "Sequences preempted for KV room (re-prefilled later).",
                StageStats::preemptions);
        counter(e, tags, "catena.stage.stale.dropped", "Messages of another plan epoch dropped.",
                StageStats::staleDropped);
        counter(e, tags, "catena.stage.rejected", "Sequences refused (no room, queue full).", StageStats::rejected);
        counter(e, tags, "catena.stage.busy.seconds", "Time the stage's compute thread spent in passes; its rate is"
                + " the busy fraction.", s -> s.busyNanos() / 1e9);
        counter(e, tags, "catena.stage.hops", "Ring messages received from the previous stage.", StageStats::hops);
        counter(e, tags, "catena.stage.link.hops", "Of those, the ones that came over the activation link (the"
                + " rest over Pekko remoting).", StageStats::linkHops);
        counter(e, tags, "catena.stage.hop.seconds", "Summed transit of those messages (wall clocks); divided by"
                + " the hops, the hop latency into this stage.", s -> s.hopNanos() / 1e9);
        counter(e, tags, "catena.prefix.cache.queries", "Prompt tokens looked up in the stage's prefix cache (stage"
                + " 0).", s -> s.prefix().queryTokens());
        counter(e, tags, "catena.prefix.cache.hits", "Prompt tokens found in the prefix cache (attached, not"
                + " computed); divided by the queries, the hit rate.", s -> s.prefix().hitTokens());
        counter(e, tags, "catena.prefix.cache.lookups", "Prompts looked up in the prefix cache.",
                s -> s.prefix().queries());
        gauge(e, tags, "catena.prefix.cache.hit.rate", "Prompt tokens found cached over tokens looked up since the"
                + " stage loaded.", s -> s.prefix().queryTokens() == 0 ? 0
                        : (double) s.prefix().hitTokens() / s.prefix().queryTokens());
        gauge(e, tags, "catena.prefix.cache.blocks", "KV blocks in the prefix cache (in use or idle).",
                s -> s.prefix().cachedBlocks());
        gauge(e, tags, "catena.prefix.cache.idle.blocks", "Cached KV blocks no sequence uses (reclaimable; counted as"
                + " free in the usage).", s -> s.prefix().idleBlocks());
        counter(e, tags, "catena.prefix.cache.evictions", "Idle cached blocks evicted for room.",
                s -> s.prefix().evictions());
        counter(e, tags, "catena.prefix.cache.misses", "Sequences this later stage lacked stage 0's cached blocks"
                + " for (re-run without the cache).", s -> s.prefix().misses());
        return e;
    }

    private void gauge(Entry e, Tags tags, String name, String help, ToDoubleFunction<StageStats> value) {
        e.meters.add(Gauge.builder(name, e, x -> value.applyAsDouble(x.last)).tags(tags).description(help)
                .strongReference(true).register(registry));
    }

    private void counter(Entry e, Tags tags, String name, String help, ToDoubleFunction<StageStats> value) {
        e.meters.add(FunctionCounter.builder(name, e, x -> value.applyAsDouble(x.last)).tags(tags).description(help)
                .register(registry));
    }
}
