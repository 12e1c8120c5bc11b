package catena.gateway.grpc;

import catena.gateway.bridge.GenerationClient;
import catena.gateway.model.ServedModel;
import catena.v1.GenerateRequest;
import catena.v1.GenerateResponse;
import catena.v1.GetModelInfoRequest;
import catena.v1.GetPipelineStatsRequest;
import catena.v1.InferenceGrpc;
import catena.v1.ModelInfo;
import catena.v1.PipelineStats;
import catena.v1.ReplicaInfo;
import catena.worker.plan.Topology;
import catena.v1.StageInfo;
import catena.v1.StageStats;
import catena.v1.TokenizeRequest;
import catena.v1.TokenizeResponse;
import catena.worker.actor.StageActor;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

/**
 * {@code catena.v1.Inference}: validates, maps proto to the domain, and hands generation to the
 * {@link GenerationClient}. Knows nothing of layers or actors.
 */
public final class InferenceService extends InferenceGrpc.InferenceImplBase {
    /**
     * Bytes gRPC may hold unsent per stream before isReady turns false (its default is 32 KiB,
     * about a thousand tokens of text: a stalled client would let its whole completion run). With
     * 1 KiB a client that stops reading pauses its sequence's ring within ~50 tokens.
     */
    static final int ON_READY_THRESHOLD = 1024;

    private final ServedModel model;
    private final GenerationClient client;
    private final RequestValidator validator;

    public InferenceService(ServedModel model, GenerationClient client) {
        this.model = model;
        this.client = client;
        this.validator = new RequestValidator(model);
    }

    @Override
    public void generate(GenerateRequest request, StreamObserver<GenerateResponse> responses) {
        var out = (ServerCallStreamObserver<GenerateResponse>) responses;
        // Handlers must be set during the call; the session they drive exists only after generate().
        var handle = new java.util.concurrent.atomic.AtomicReference<catena.gateway.session.GenerationHandle>();
        var cancelled = new java.util.concurrent.atomic.AtomicBoolean();
        out.setOnReadyThreshold(ON_READY_THRESHOLD);
        out.setOnReadyHandler(() -> {
            var h = handle.get();
            if (h != null) {
                h.ready();
            }
        });
        out.setOnCancelHandler(() -> {
            cancelled.set(true);
            var h = handle.get();
            if (h != null) {
                h.cancel();
            }
        });
        try {
            handle.set(client.generate(validator.validate(request), new GrpcGenerationSink(out, model.tokenizer()),
                    WarmupInterceptor.isWarmup()));
            if (cancelled.get()) {
                handle.get().cancel();
            }
        } catch (RuntimeException e) {
            responses.onError(StatusMapper.toStatus(e));
        }
    }

    @Override
    public void tokenize(TokenizeRequest request, StreamObserver<TokenizeResponse> responses) {
        try {
            int[] ids = model.tokenizer().encode(request.getText(), request.getAddBos(), request.getParseSpecial());
            TokenizeResponse.Builder b = TokenizeResponse.newBuilder();
            for (int id : ids) {
                b.addIds(id);
            }
            responses.onNext(b.build());
            responses.onCompleted();
        } catch (RuntimeException e) {
            responses.onError(StatusMapper.toStatus(e));
        }
    }

    @Override
    public void getModelInfo(GetModelInfoRequest request, StreamObserver<ModelInfo> responses) {
        var f = model.facts();
        ModelInfo.Builder b = ModelInfo.newBuilder().setName(model.name()).setArchitecture(f.architecture())
                .setLayerCount(f.layerCount()).setVocabSize(f.vocabSize()).setContextLength(f.contextLength())
                .setEmbeddingDim(f.dim());
        Topology t = client.topology();
        boolean firstReady = true;
        for (Topology.Replica r : t.replicas()) {
            ReplicaInfo.Builder rb = ReplicaInfo.newBuilder().setIndex(r.index()).setEpoch(r.epoch()).setReady(r.ready());
            for (Topology.Stage s : r.stages()) {
                StageInfo info = StageInfo.newBuilder().setIndex(s.index()).setFromLayer(s.fromLayer())
                        .setToLayerExclusive(s.toLayerExclusive()).setAddress(s.ref().path().address().toString())
                        .build();
                rb.addStages(info);
                if (r.ready() && firstReady) {
                    b.addStages(info);
                }
            }
            firstReady &= !r.ready();
            b.addReplicas(rb);
        }
        b.setSpares(t.spares()).setShortfall(t.shortfall());
        responses.onNext(b.build());
        responses.onCompleted();
    }

    @Override
    public void getPipelineStats(GetPipelineStatsRequest request, StreamObserver<PipelineStats> responses) {
        client.stats().whenComplete((stats, failure) -> {
            if (failure != null) {
                Throwable cause = failure instanceof java.util.concurrent.CompletionException c ? c.getCause() : failure;
                responses.onError(StatusMapper.toStatus(cause));
                return;
            }
            PipelineStats.Builder b = PipelineStats.newBuilder().setActiveSessions(client.activeSessions());
            for (StageActor.StageStats s : stats) {
                b.addStages(StageStats.newBuilder().setIndex(s.stageIndex()).setSequences(s.sequences())
                        .setCacheBytes(s.cacheBytes()).setBatches(s.batches()).setRows(s.rows())
                        .setMultiSequenceBatches(s.multiSequenceBatches()).setMaxBatchSequences(s.maxBatchSequences())
                        .setReplica(s.replica()).setEpoch(s.epoch()).setWaiting(s.waiting())
                        .setKvBlocksUsed(s.kvBlocksUsed()).setKvBlocksTotal(s.kvBlocksTotal())
                        .setPreemptions(s.preemptions()).setStaleDropped(s.staleDropped()).setRejected(s.rejected())
                        .setKvType(s.kvType()).setKvBytesPerToken(s.kvBytesPerToken())
                        .setKvPoolUsedBytes(s.kvPoolUsedBytes())
                        .setPrefixQueryTokens(s.prefix().queryTokens()).setPrefixHitTokens(s.prefix().hitTokens())
                        .setPrefixCachedBlocks(s.prefix().cachedBlocks()).setPrefixMisses(s.prefix().misses()));
            }
            responses.onNext(b.build());
            responses.onCompleted();
        });
    }
}
