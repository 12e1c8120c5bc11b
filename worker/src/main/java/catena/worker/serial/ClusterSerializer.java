package catena.worker.serial;

import catena.cluster.v1.Activations;
import catena.cluster.v1.EndReason;
import catena.cluster.v1.FreeSequence;
import catena.cluster.v1.GetStageStats;
import catena.cluster.v1.LoadStage;
import catena.cluster.v1.NextToken;
import catena.cluster.v1.Sampling;
import catena.cluster.v1.SequenceRows;
import catena.cluster.v1.StageStatsReport;
import catena.cluster.v1.StartSequence;
import catena.cluster.v1.Throttle;
import catena.shard.sample.SamplingParams;
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
    private static final String LOAD = "load";
    private static final String LOADED = "loaded";
    private static final String LOAD_FAILED = "load-failed";
    private static final String START = "start";
    private static final String FORWARD = "forward";
    private static final String NEXT = "next";
    private static final String FREE = "free";
    private static final String THROTTLE = "throttle";
    private static final String GET_STATS = "get-stats";
    private static final String STATS = "stats";
    private static final String SAMPLED = "sampled";
    private static final String FAILED = "failed";

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
            case StageActor.Load m -> LOAD;
            case StageActor.StageLoaded m -> LOADED;
            case StageActor.StageFailed m -> LOAD_FAILED;
            case StageActor.Start m -> START;
            case StageActor.Forward m -> FORWARD;
            case StageActor.NextToken m -> NEXT;
            case StageActor.Free m -> FREE;
            case StageActor.Throttle m -> THROTTLE;
            case StageActor.GetStats m -> GET_STATS;
            case StageActor.StageStats m -> STATS;
            case SequenceEvent.TokenSampled m -> SAMPLED;
            case SequenceEvent.SequenceFailed m -> FAILED;
            default -> throw new IllegalArgumentException("no cluster serialization for " + o.getClass().getName());
        };
    }

    @Override
    public byte[] toBinary(Object o) {
        return switch (o) {
            case StageActor.Load m -> LoadStage.newBuilder().setModelPath(m.modelPath()).setKeepF32(m.keepF32())
                    .setStageIndex(m.stageIndex()).setStageCount(m.stageCount()).setFromLayer(m.fromLayer())
                    .setToLayerExclusive(m.toLayerExclusive()).setNext(ref(m.next())).setReplyTo(ref(m.replyTo()))
                    .build().toByteArray();
            case StageActor.StageLoaded m -> catena.cluster.v1.StageLoaded.newBuilder().setStageIndex(m.stageIndex())
                    .setFromLayer(m.fromLayer()).setToLayerExclusive(m.toLayerExclusive()).setStage(ref(m.stage()))
                    .build().toByteArray();
            case StageActor.StageFailed m -> catena.cluster.v1.StageFailed.newBuilder().setStageIndex(m.stageIndex())
                    .setReason(m.reason()).build().toByteArray();
            case StageActor.Start m -> start(m).toByteArray();
            case StageActor.Forward m -> forward(m).toByteArray();
            case StageActor.NextToken m -> NextToken.newBuilder().setSequenceId(m.sequenceId()).setToken(m.token())
                    .build().toByteArray();
            case StageActor.Free m -> FreeSequence.newBuilder().setSequenceId(m.sequenceId()).build().toByteArray();
            case StageActor.Throttle m -> Throttle.newBuilder().setSequenceId(m.sequenceId()).setPause(m.pause())
                    .build().toByteArray();
            case StageActor.GetStats m -> GetStageStats.newBuilder().setReplyTo(ref(m.replyTo())).build().toByteArray();
            case StageActor.StageStats m -> StageStatsReport.newBuilder().setStageIndex(m.stageIndex())
                    .setFromLayer(m.fromLayer()).setToLayerExclusive(m.toLayerExclusive()).setSequences(m.sequences())
                    .setCacheBytes(m.cacheBytes()).setBatches(m.batches()).setRows(m.rows())
                    .setMultiSequenceBatches(m.multiSequenceBatches()).setMaxBatchSequences(m.maxBatchSequences())
                    .build().toByteArray();
            case SequenceEvent.TokenSampled m -> sampled(m).toByteArray();
            case SequenceEvent.SequenceFailed m -> catena.cluster.v1.SequenceFailed.newBuilder()
                    .setSequenceId(m.sequenceId()).setReason(m.reason()).build().toByteArray();
            default -> throw new IllegalArgumentException("no cluster serialization for " + o.getClass().getName());
        };
    }

    @Override
    public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
        try {
            return switch (manifest) {
                case LOAD -> {
                    LoadStage p = LoadStage.parseFrom(bytes);
                    yield new StageActor.Load(p.getModelPath(), p.getKeepF32(), p.getStageIndex(), p.getStageCount(),
                            p.getFromLayer(), p.getToLayerExclusive(), resolve(p.getNext()), resolve(p.getReplyTo()));
                }
                case LOADED -> {
                    var p = catena.cluster.v1.StageLoaded.parseFrom(bytes);
                    yield new StageActor.StageLoaded(p.getStageIndex(), p.getFromLayer(), p.getToLayerExclusive(),
                            resolve(p.getStage()));
                }
                case LOAD_FAILED -> {
                    var p = catena.cluster.v1.StageFailed.parseFrom(bytes);
                    yield new StageActor.StageFailed(p.getStageIndex(), p.getReason());
                }
                case START -> start(StartSequence.parseFrom(bytes));
                case FORWARD -> forward(Activations.parseFrom(bytes));
                case NEXT -> {
                    NextToken p = NextToken.parseFrom(bytes);
                    yield new StageActor.NextToken(p.getSequenceId(), p.getToken());
                }
                case FREE -> new StageActor.Free(FreeSequence.parseFrom(bytes).getSequenceId());
                case THROTTLE -> {
                    Throttle p = Throttle.parseFrom(bytes);
                    yield new StageActor.Throttle(p.getSequenceId(), p.getPause());
                }
                case GET_STATS -> new StageActor.GetStats(resolve(GetStageStats.parseFrom(bytes).getReplyTo()));
                case STATS -> {
                    StageStatsReport p = StageStatsReport.parseFrom(bytes);
                    yield new StageActor.StageStats(p.getStageIndex(), p.getFromLayer(), p.getToLayerExclusive(),
                            p.getSequences(), p.getCacheBytes(), p.getBatches(), p.getRows(),
                            p.getMultiSequenceBatches(), p.getMaxBatchSequences());
                }
                case SAMPLED -> {
                    var p = catena.cluster.v1.TokenSampled.parseFrom(bytes);
                    SequenceEvent.Logprob lp = p.hasLogprob() ? new SequenceEvent.Logprob(p.getLogprob(),
                            ints(p.getTopIdsList()), floats(p.getTopLogprobsList())) : null;
                    yield new SequenceEvent.TokenSampled(p.getSequenceId(), p.getToken(), p.getStep(), end(p.getEnd()),
                            lp);
                }
                case FAILED -> {
                    var p = catena.cluster.v1.SequenceFailed.parseFrom(bytes);
                    yield new SequenceEvent.SequenceFailed(p.getSequenceId(), p.getReason());
                }
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
        StartSequence.Builder b = StartSequence.newBuilder().setSequenceId(m.sequenceId())
                .setSampling(Sampling.newBuilder().setTemperature(s.temperature()).setTopK(s.topK()).setTopP(s.topP())
                        .setMinP(s.minP()).setRepetitionPenalty(s.repetitionPenalty())
                        .setRepetitionWindow(s.repetitionWindow()).setSeed(s.seed()))
                .setMaxTokens(m.maxTokens()).setLogprobs(m.logprobs()).setSink(ref(m.sink()));
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
        return new StageActor.Start(p.getSequenceId(), ints(p.getPromptList()), params, p.getMaxTokens(),
                ints(p.getEndIdsList()), p.getLogprobs(), resolve(p.getSink()));
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
        Activations.Builder b = Activations.newBuilder().setDim(m.dim());
        for (StageActor.Rows r : m.sequences()) {
            SequenceRows.Builder rb = SequenceRows.newBuilder().setSequenceId(r.sequenceId()).setCount(r.count())
                    .setSample(r.sample());
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
                    r.hasStart() ? start(r.getStart()) : null));
        }
        float[] data = new float[p.getData().size() / Float.BYTES];
        p.getData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(data);
        return new StageActor.Forward(rows, ints(p.getTokensList()), data, p.getDim());
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
