package catena.worker.serial;

import catena.cluster.v1.Activations;
import catena.cluster.v1.AssignStage;
import catena.cluster.v1.DescribeWorker;
import catena.cluster.v1.StageAssigned;
import catena.cluster.v1.StageLeaving;
import catena.cluster.v1.UnassignStage;
import catena.cluster.v1.EndReason;
import catena.cluster.v1.FreeSequence;
import catena.cluster.v1.GetStageStats;
import catena.cluster.v1.NextTokens;
import catena.cluster.v1.Sampling;
import catena.cluster.v1.SequenceRows;
import catena.cluster.v1.StageStatsReport;
import catena.cluster.v1.StartSequence;
import catena.cluster.v1.Throttle;
import catena.shard.sample.SamplingParams;
import catena.worker.actor.RelayedEvents;
import catena.worker.actor.SequenceEvent;
import catena.worker.actor.StageActor;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import java.io.NotSerializableException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.SerializerWithStringManifest;

/**
 * Serializes the worker's actor messages as {@code catena.cluster.v1} protobuf. Activations go as
 * little-endian float32 bytes; actor references as their serialized path strings.
 */
public final class ClusterSerializer extends SerializerWithStringManifest {
    private static final int ID = 4471;
    private static final String ASSIGN = "assign";
    private static final String UNASSIGN = "unassign";
    private static final String DESCRIBE = "describe";
    private static final String DESCRIPTION = "description";
    private static final String ASSIGNED = "assigned";
    private static final String ASSIGN_FAILED = "assign-failed";
    private static final String LEAVING = "leaving";
    private static final String START = "start";
    private static final String FORWARD = "forward";
    private static final String NEXT = "next";
    private static final String FREE = "free";
    private static final String THROTTLE = "throttle";
    private static final String GET_STATS = "get-stats";
    private static final String STATS = "stats";
    private static final String SAMPLED = "sampled";
    private static final String RELAYED = "relayed";
    private static final String FAILED = "failed";
    private static final String INTERRUPTED = "interrupted";
    private static final String REJECTED = "rejected";
    private static final String PROGRESS = "progress";
    private static final String TOPOLOGY = "topology";

    private final ExtendedActorSystem system;
    private volatile ActorRefResolver resolver;

    public ClusterSerializer(ExtendedActorSystem system) {
        this.system = system;
    }

    @Override
    public int identifier() {
        return ID;
    }

    @Override
    public String manifest(Object o) {
        return switch (o) {
            case StageActor.Assign m -> ASSIGN;
            case StageActor.Unassign m -> UNASSIGN;
            case StageActor.Describe m -> DESCRIBE;
            case StageActor.WorkerDescription m -> DESCRIPTION;
            case StageActor.Assigned m -> ASSIGNED;
            case StageActor.AssignFailed m -> ASSIGN_FAILED;
            case StageActor.Leaving m -> LEAVING;
            case StageActor.Start m -> START;
            case StageActor.Forward m -> FORWARD;
            case StageActor.NextTokens m -> NEXT;
            case StageActor.Free m -> FREE;
            case StageActor.Throttle m -> THROTTLE;
            case StageActor.GetStats m -> GET_STATS;
            case StageActor.StageStats m -> STATS;
            case SequenceEvent.TokenSampled m -> SAMPLED;
            case RelayedEvents m -> RELAYED;
            case SequenceEvent.SequenceFailed m -> FAILED;
            case SequenceEvent.SequenceInterrupted m -> INTERRUPTED;
            case SequenceEvent.SequenceRejected m -> REJECTED;
            case SequenceEvent.SequenceProgress m -> PROGRESS;
            case catena.worker.plan.Topology m -> TOPOLOGY;
            default -> throw new IllegalArgumentException("no cluster serialization for " + o.getClass().getName());
        };
    }

    @Override
    public byte[] toBinary(Object o) {
        return switch (o) {
            case StageActor.Assign m -> AssignStage.newBuilder().setModelPath(m.modelPath()).setKeepF32(m.keepF32())
                    .setReplica(m.replica()).setEpoch(m.epoch()).setStageIndex(m.stageIndex())
                    .setStageCount(m.stageCount()).setFromLayer(m.fromLayer()).setToLayerExclusive(m.toLayerExclusive())
                    .setNext(ref(m.next())).setReplyTo(ref(m.replyTo())).setNextLink(m.nextLink()).build().toByteArray();
            case StageActor.Unassign m -> UnassignStage.newBuilder().setEpoch(m.epoch()).build().toByteArray();
            case StageActor.Describe m -> DescribeWorker.newBuilder().setReplyTo(ref(m.replyTo())).build().toByteArray();
            case StageActor.WorkerDescription m -> catena.cluster.v1.WorkerDescription.newBuilder()
                    .setStage(ref(m.stage())).setMemoryBytes(m.memoryBytes()).setCores(m.cores()).setModel(m.model())
                    .setFromLayer(m.fromLayer()).setToLayerExclusive(m.toLayerExclusive()).setReplica(m.replica())
                    .setStageIndex(m.stageIndex()).setEpoch(m.epoch()).setDraining(m.draining()).setLink(m.link())
                    .build().toByteArray();
            case StageActor.Assigned m -> StageAssigned.newBuilder().setReplica(m.replica()).setEpoch(m.epoch())
                    .setStageIndex(m.stageIndex()).setStage(ref(m.stage())).build().toByteArray();
            case StageActor.AssignFailed m -> catena.cluster.v1.AssignFailed.newBuilder().setReplica(m.replica())
                    .setEpoch(m.epoch()).setStageIndex(m.stageIndex()).setStage(ref(m.stage())).setReason(m.reason())
                    .build().toByteArray();
            case StageActor.Leaving m -> StageLeaving.newBuilder().setStage(ref(m.stage())).build().toByteArray();
            case StageActor.Start m -> start(m).toByteArray();
            case StageActor.Forward m -> forward(m).toByteArray();
            case StageActor.NextTokens m -> {
                NextTokens.Builder b = NextTokens.newBuilder().setEpoch(m.epoch()).setSentMicros(m.sentMicros());
                for (StageActor.Fed f : m.tokens()) {
                    b.addSequenceIds(f.sequenceId()).addTokens(f.token());
                }
                yield b.build().toByteArray();
            }
            case StageActor.Free m -> FreeSequence.newBuilder().setSequenceId(m.sequenceId()).build().toByteArray();
            case StageActor.Throttle m -> Throttle.newBuilder().setSequenceId(m.sequenceId()).setPause(m.pause())
                    .build().toByteArray();
            case StageActor.GetStats m -> GetStageStats.newBuilder().setReplyTo(ref(m.replyTo())).build().toByteArray();
            case StageActor.StageStats m -> StageStatsReport.newBuilder().setReplica(m.replica()).setEpoch(m.epoch())
                    .setStageIndex(m.stageIndex()).setFromLayer(m.fromLayer()).setToLayerExclusive(m.toLayerExclusive())
                    .setSequences(m.sequences()).setWaiting(m.waiting()).setCacheBytes(m.cacheBytes())
                    .setKvBlocksUsed(m.kvBlocksUsed()).setKvBlocksTotal(m.kvBlocksTotal()).setKvBlockTokens(m.kvBlockTokens()).setBatches(m.batches())
                    .setRows(m.rows()).setMultiSequenceBatches(m.multiSequenceBatches())
                    .setMaxBatchSequences(m.maxBatchSequences()).setPreemptions(m.preemptions())
                    .setStaleDropped(m.staleDropped()).setRejected(m.rejected()).setBusyNanos(m.busyNanos()).setHops(m.hops())
                    .setHopNanos(m.hopNanos()).setKvType(m.kvType()).setKvBytesPerToken(m.kvBytesPerToken())
                    .setKvPoolUsedBytes(m.kvPoolUsedBytes()).setPrefixQueries(m.prefix().queries())
                    .setPrefixQueryTokens(m.prefix().queryTokens()).setPrefixHitTokens(m.prefix().hitTokens())
                    .setPrefixCachedBlocks(m.prefix().cachedBlocks()).setPrefixIdleBlocks(m.prefix().idleBlocks())
                    .setPrefixEvictions(m.prefix().evictions()).setPrefixMisses(m.prefix().misses())
                    .setLinkHops(m.linkHops()).build()
                    .toByteArray();
            case SequenceEvent.TokenSampled m -> sampled(m).toByteArray();
            case RelayedEvents m -> {
                var b = catena.cluster.v1.RelayedEvents.newBuilder();
                for (SequenceEvent e : m.events()) {
                    b.addEvents(relayed(e));
                }
                yield b.build().toByteArray();
            }
            case SequenceEvent.SequenceFailed m -> failed(m).toByteArray();
            case SequenceEvent.SequenceInterrupted m -> interrupted(m).toByteArray();
            case SequenceEvent.SequenceRejected m -> rejected(m).toByteArray();
            case SequenceEvent.SequenceProgress m -> progress(m).toByteArray();
            case catena.worker.plan.Topology m -> topology(m).toByteArray();
            default -> throw new IllegalArgumentException("no cluster serialization for " + o.getClass().getName());
        };
    }

    private catena.cluster.v1.TopologyMessage topology(catena.worker.plan.Topology t) {
        var b = catena.cluster.v1.TopologyMessage.newBuilder().setOwner(t.owner()).setVersion(t.version())
                .setSpares(t.spares())
                .setShortfall(t.shortfall());
        for (var r : t.replicas()) {
            var rb = catena.cluster.v1.ReplicaMessage.newBuilder().setIndex(r.index()).setEpoch(r.epoch())
                    .setReady(r.ready());
            for (var s : r.stages()) {
                rb.addStages(catena.cluster.v1.StageMessage.newBuilder().setIndex(s.index())
                        .setFromLayer(s.fromLayer()).setToLayerExclusive(s.toLayerExclusive()).setRef(ref(s.ref())));
            }
            b.addReplicas(rb);
        }
        return b.build();
    }

    private catena.worker.plan.Topology topology(catena.cluster.v1.TopologyMessage p) {
        List<catena.worker.plan.Topology.Replica> replicas = new ArrayList<>();
        for (var r : p.getReplicasList()) {
            List<catena.worker.plan.Topology.Stage> stages = new ArrayList<>();
            for (var s : r.getStagesList()) {
                stages.add(new catena.worker.plan.Topology.Stage(s.getIndex(), s.getFromLayer(),
                        s.getToLayerExclusive(), resolve(s.getRef())));
            }
            replicas.add(new catena.worker.plan.Topology.Replica(r.getIndex(), r.getEpoch(), r.getReady(), stages));
        }
        return new catena.worker.plan.Topology(p.getOwner(), p.getVersion(), replicas, p.getSpares(), p.getShortfall());
    }

    @Override
    public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
        try {
            return switch (manifest) {
                case ASSIGN -> {
                    AssignStage p = AssignStage.parseFrom(bytes);
                    yield new StageActor.Assign(p.getModelPath(), p.getKeepF32(), p.getReplica(), p.getEpoch(),
                            p.getStageIndex(), p.getStageCount(), p.getFromLayer(), p.getToLayerExclusive(),
                            resolve(p.getNext()), resolve(p.getReplyTo()), p.getNextLink());
                }
                case UNASSIGN -> new StageActor.Unassign(UnassignStage.parseFrom(bytes).getEpoch());
                case DESCRIBE -> new StageActor.Describe(resolve(DescribeWorker.parseFrom(bytes).getReplyTo()));
                case DESCRIPTION -> {
                    var p = catena.cluster.v1.WorkerDescription.parseFrom(bytes);
                    yield new StageActor.WorkerDescription(resolve(p.getStage()), p.getMemoryBytes(), p.getCores(),
                            p.getModel(), p.getFromLayer(), p.getToLayerExclusive(), p.getReplica(), p.getStageIndex(),
                            p.getEpoch(), p.getDraining(), p.getLink());
                }
                case ASSIGNED -> {
                    StageAssigned p = StageAssigned.parseFrom(bytes);
                    yield new StageActor.Assigned(p.getReplica(), p.getEpoch(), p.getStageIndex(), resolve(p.getStage()));
                }
                case ASSIGN_FAILED -> {
                    var p = catena.cluster.v1.AssignFailed.parseFrom(bytes);
                    yield new StageActor.AssignFailed(p.getReplica(), p.getEpoch(), p.getStageIndex(),
                            resolve(p.getStage()), p.getReason());
                }
                case LEAVING -> new StageActor.Leaving(resolve(StageLeaving.parseFrom(bytes).getStage()));
                case START -> start(StartSequence.parseFrom(bytes));
                case FORWARD -> forward(Activations.parseFrom(bytes));
                case NEXT -> {
                    NextTokens p = NextTokens.parseFrom(bytes);
                    if (p.getSequenceIdsCount() != p.getTokensCount()) {
                        throw new NotSerializableException("NextTokens: " + p.getSequenceIdsCount()
                                + " sequence ids but " + p.getTokensCount() + " tokens");
                    }
                    List<StageActor.Fed> fed = new ArrayList<>(p.getTokensCount());
                    for (int i = 0; i < p.getTokensCount(); i++) {
                        fed.add(new StageActor.Fed(p.getSequenceIds(i), p.getTokens(i)));
                    }
                    yield new StageActor.NextTokens(p.getEpoch(), fed, p.getSentMicros());
                }
                case FREE -> new StageActor.Free(FreeSequence.parseFrom(bytes).getSequenceId());
                case THROTTLE -> {
                    Throttle p = Throttle.parseFrom(bytes);
                    yield new StageActor.Throttle(p.getSequenceId(), p.getPause());
                }
                case GET_STATS -> new StageActor.GetStats(resolve(GetStageStats.parseFrom(bytes).getReplyTo()));
                case STATS -> {
                    StageStatsReport p = StageStatsReport.parseFrom(bytes);
                    yield new StageActor.StageStats(p.getReplica(), p.getEpoch(), p.getStageIndex(), p.getFromLayer(),
                            p.getToLayerExclusive(), p.getSequences(), p.getWaiting(), p.getCacheBytes(),
                            p.getKvBlocksUsed(), p.getKvBlocksTotal(), p.getKvBlockTokens(), p.getBatches(), p.getRows(),
                            p.getMultiSequenceBatches(), p.getMaxBatchSequences(), p.getPreemptions(),
                            p.getStaleDropped(), p.getRejected(), p.getBusyNanos(), p.getHops(), p.getHopNanos(),
                            p.getKvType(), p.getKvBytesPerToken(), p.getKvPoolUsedBytes(),
                            new catena.worker.engine.PrefixStats(p.getPrefixQueries(), p.getPrefixQueryTokens(),
                                    p.getPrefixHitTokens(), p.getPrefixCachedBlocks(), p.getPrefixIdleBlocks(),
                                    p.getPrefixEvictions(), p.getPrefixMisses()), p.getLinkHops());
                }
                case SAMPLED -> sampled(catena.cluster.v1.TokenSampled.parseFrom(bytes));
                case RELAYED -> {
                    var p = catena.cluster.v1.RelayedEvents.parseFrom(bytes);
                    List<SequenceEvent> events = new ArrayList<>(p.getEventsCount());
                    for (catena.cluster.v1.RelayedEvent e : p.getEventsList()) {
                        events.add(relayed(e));
                    }
                    yield new RelayedEvents(events);
                }
                case FAILED -> failed(catena.cluster.v1.SequenceFailed.parseFrom(bytes));
                case INTERRUPTED -> interrupted(catena.cluster.v1.SequenceInterrupted.parseFrom(bytes));
                case REJECTED -> rejected(catena.cluster.v1.SequenceRejected.parseFrom(bytes));
                case PROGRESS -> progress(catena.cluster.v1.SequenceProgress.parseFrom(bytes));
                case TOPOLOGY -> topology(catena.cluster.v1.TopologyMessage.parseFrom(bytes));
                default -> throw new NotSerializableException("unknown cluster message manifest: " + manifest);
            };
        } catch (InvalidProtocolBufferException e) {
            NotSerializableException n = new NotSerializableException("bad cluster message " + manifest + ": "
                    + e.getMessage());
            n.initCause(e);
            throw n;
        }
    }

    private StartSequence start(StageActor.Start m) {
        SamplingParams s = m.sampling();
        StartSequence.Builder b = StartSequence.newBuilder().setSequenceId(m.sequenceId()).setEpoch(m.epoch())
                .setFirstStep(m.firstStep())
                .setSampling(Sampling.newBuilder().setTemperature(s.temperature()).setTopK(s.topK()).setTopP(s.topP())
                        .setMinP(s.minP()).setRepetitionPenalty(s.repetitionPenalty())
                        .setRepetitionWindow(s.repetitionWindow()).setSeed(s.seed()))
                .setMaxTokens(m.maxTokens()).setLogprobs(m.logprobs()).setSink(ref(m.sink()))
                .setNoPrefixCache(!m.prefixCache()).setResumed(m.resumed());
        if (m.relay() != null) {
            b.setRelay(ref(m.relay()));
        }
        for (int t : m.prompt()) {
            b.addPrompt(t);
        }
        for (int t : m.endIds()) {
            b.addEndIds(t);
        }
        return b.build();
    }

    private StageActor.Start start(StartSequence p) {
        Sampling s = p.getSampling();
        SamplingParams params = new SamplingParams(s.getTemperature(), s.getTopK(), s.getTopP(), s.getMinP(),
                s.getRepetitionPenalty(), s.getRepetitionWindow(), s.getSeed());
        return new StageActor.Start(p.getSequenceId(), p.getEpoch(), ints(p.getPromptList()), p.getFirstStep(), params,
                p.getMaxTokens(), ints(p.getEndIdsList()), p.getLogprobs(), resolve(p.getSink()), !p.getNoPrefixCache(),
                p.getResumed(), p.hasRelay() ? resolve(p.getRelay()) : null);
    }

    private static catena.cluster.v1.RelayedEvent relayed(SequenceEvent e) {
        var b = catena.cluster.v1.RelayedEvent.newBuilder();
        switch (e) {
            case SequenceEvent.TokenSampled m -> b.setSampled(sampled(m));
            case SequenceEvent.SequenceFailed m -> b.setFailed(failed(m));
            case SequenceEvent.SequenceInterrupted m -> b.setInterrupted(interrupted(m));
            case SequenceEvent.SequenceRejected m -> b.setRejected(rejected(m));
            case SequenceEvent.SequenceProgress m -> b.setProgress(progress(m));
        }
        return b.build();
    }

    private static SequenceEvent relayed(catena.cluster.v1.RelayedEvent e) throws NotSerializableException {
        return switch (e.getEventCase()) {
            case SAMPLED -> sampled(e.getSampled());
            case FAILED -> failed(e.getFailed());
            case INTERRUPTED -> interrupted(e.getInterrupted());
            case REJECTED -> rejected(e.getRejected());
            case PROGRESS -> progress(e.getProgress());
            case EVENT_NOT_SET -> throw new NotSerializableException("relayed event without an event");
        };
    }

    private static catena.cluster.v1.SequenceFailed failed(SequenceEvent.SequenceFailed m) {
        return catena.cluster.v1.SequenceFailed.newBuilder().setSequenceId(m.sequenceId()).setReason(m.reason())
                .build();
    }

    private static SequenceEvent.SequenceFailed failed(catena.cluster.v1.SequenceFailed p) {
        return new SequenceEvent.SequenceFailed(p.getSequenceId(), p.getReason());
    }

    private static catena.cluster.v1.SequenceInterrupted interrupted(SequenceEvent.SequenceInterrupted m) {
        return catena.cluster.v1.SequenceInterrupted.newBuilder().setSequenceId(m.sequenceId()).setReason(m.reason())
                .setPrefixMiss(m.prefixMiss()).setPreempted(m.preempted()).build();
    }

    private static SequenceEvent.SequenceInterrupted interrupted(catena.cluster.v1.SequenceInterrupted p) {
        return new SequenceEvent.SequenceInterrupted(p.getSequenceId(), p.getReason(), p.getPrefixMiss(),
                p.getPreempted());
    }

    private static catena.cluster.v1.SequenceRejected rejected(SequenceEvent.SequenceRejected m) {
        return catena.cluster.v1.SequenceRejected.newBuilder().setSequenceId(m.sequenceId()).setReason(m.reason())
                .setRetryable(m.retryable()).build();
    }

    private static SequenceEvent.SequenceRejected rejected(catena.cluster.v1.SequenceRejected p) {
        return new SequenceEvent.SequenceRejected(p.getSequenceId(), p.getReason(), p.getRetryable());
    }

    private static catena.cluster.v1.SequenceProgress progress(SequenceEvent.SequenceProgress m) {
        return catena.cluster.v1.SequenceProgress.newBuilder().setSequenceId(m.sequenceId())
                .setPositions(m.positions()).setWaiting(m.waiting()).build();
    }

    private static SequenceEvent.SequenceProgress progress(catena.cluster.v1.SequenceProgress p) {
        return new SequenceEvent.SequenceProgress(p.getSequenceId(), p.getPositions(), p.getWaiting());
    }

    private static SequenceEvent.TokenSampled sampled(catena.cluster.v1.TokenSampled p) {
        SequenceEvent.Logprob lp = p.hasLogprob() ? new SequenceEvent.Logprob(p.getLogprob(),
                ints(p.getTopIdsList()), floats(p.getTopLogprobsList())) : null;
        return new SequenceEvent.TokenSampled(p.getSequenceId(), p.getToken(), p.getStep(), end(p.getEnd()), lp);
    }

    private static catena.cluster.v1.TokenSampled sampled(SequenceEvent.TokenSampled m) {
        var b = catena.cluster.v1.TokenSampled.newBuilder().setSequenceId(m.sequenceId()).setToken(m.token())
                .setStep(m.step()).setEnd(end(m.end()));
        if (m.logprob() != null) {
            b.setLogprob(m.logprob().logprob());
            for (int id : m.logprob().topIds()) {
                b.addTopIds(id);
            }
            for (float v : m.logprob().topLogprobs()) {
                b.addTopLogprobs(v);
            }
        }
        return b.build();
    }

    private static float[] floats(List<Float> list) {
        float[] a = new float[list.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = list.get(i);
        }
        return a;
    }

    private Activations forward(StageActor.Forward m) {
        Activations.Builder b = Activations.newBuilder().setDim(m.dim()).setEpoch(m.epoch())
                .setSentMicros(m.sentMicros());
        for (StageActor.Rows r : m.sequences()) {
            SequenceRows.Builder rb = SequenceRows.newBuilder().setSequenceId(r.sequenceId()).setCount(r.count())
                    .setSample(r.sample()).setCachedPrefix(r.cachedPrefix());
            if (r.start() != null) {
                rb.setStart(start(r.start()));
            }
            b.addSequences(rb);
        }
        for (int t : m.tokens()) {
            b.addTokens(t);
        }
        ByteBuffer buf = ByteBuffer.allocate(m.data().length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(m.data());
        return b.setData(ByteString.copyFrom(buf.array())).build();
    }

    private StageActor.Forward forward(Activations p) {
        List<StageActor.Rows> rows = new ArrayList<>(p.getSequencesCount());
        for (SequenceRows r : p.getSequencesList()) {
            rows.add(new StageActor.Rows(r.getSequenceId(), r.getCount(), r.getSample(),
                    r.hasStart() ? start(r.getStart()) : null, r.getCachedPrefix()));
        }
        float[] data = new float[p.getData().size() / Float.BYTES];
        p.getData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(data);
        return new StageActor.Forward(p.getEpoch(), rows, ints(p.getTokensList()), data, p.getDim(),
                p.getSentMicros());
    }

    private static int[] ints(List<Integer> list) {
        int[] a = new int[list.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = list.get(i);
        }
        return a;
    }

    private static EndReason end(SequenceEvent.EndReason e) {
        return switch (e) {
            case NONE -> EndReason.END_REASON_NONE;
            case EOS -> EndReason.END_REASON_EOS;
            case LENGTH -> EndReason.END_REASON_LENGTH;
        };
    }

    private static SequenceEvent.EndReason end(EndReason e) {
        return switch (e) {
            case END_REASON_EOS -> SequenceEvent.EndReason.EOS;
            case END_REASON_LENGTH -> SequenceEvent.EndReason.LENGTH;
            case END_REASON_NONE -> SequenceEvent.EndReason.NONE;
            case END_REASON_UNSPECIFIED, UNRECOGNIZED -> throw new IllegalArgumentException("end reason missing");
        };
    }

    private String ref(ActorRef<?> ref) {
        return resolver().toSerializationFormat(ref);
    }

    private <T> ActorRef<T> resolve(String path) {
        return resolver().resolveActorRef(path);
    }

    private ActorRefResolver resolver() {
        ActorRefResolver r = resolver;
        if (r == null) {
            r = ActorRefResolver.get(Adapter.toTyped(system));
            resolver = r;
        }
        return r;
    }
}
