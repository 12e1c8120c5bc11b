package catena.gateway.grpc;

import catena.gateway.session.GenerationFailure;
import catena.gateway.session.GenerationOutput;
import catena.gateway.session.GenerationSink;
import catena.gateway.session.TokenLogprob;
import catena.shard.tokenizer.Tokenizer;
import catena.v1.FinishReason;
import catena.v1.GenerateResponse;
import catena.v1.LogprobCandidate;
import catena.v1.TokenLogprobs;
import catena.v1.Usage;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;

/** A generation's output as {@code GenerateResponse} messages on a gRPC server stream. */
final class GrpcGenerationSink implements GenerationSink {
    private final ServerCallStreamObserver<GenerateResponse> out;
    private final Tokenizer tokenizer;

    GrpcGenerationSink(ServerCallStreamObserver<GenerateResponse> out, Tokenizer tokenizer) {
        this.out = out;
        this.tokenizer = tokenizer;
    }

    @Override
    public boolean isReady() {
        return out.isReady();
    }

    @Override
    public void onOutput(GenerationOutput o) {
        GenerateResponse.Builder r = GenerateResponse.newBuilder().setText(o.text());
        for (int id : o.tokenIds()) {
            r.addTokenIds(id);
        }
        for (TokenLogprob lp : o.logprobs()) {
            TokenLogprobs.Builder b = TokenLogprobs.newBuilder().setToken(candidate(lp.token(), lp.logprob()));
            for (int k = 0; k < lp.topIds().length; k++) {
                b.addTop(candidate(lp.topIds()[k], lp.topLogprobs()[k]));
            }
            r.addLogprobs(b);
        }
        if (o.last()) {
            r.setFinishReason(switch (o.finishReason()) {
                case STOP -> FinishReason.FINISH_REASON_STOP;
                case LENGTH -> FinishReason.FINISH_REASON_LENGTH;
                case EOS -> FinishReason.FINISH_REASON_EOS;
            });
            r.setUsage(Usage.newBuilder().setPromptTokens(o.usage().promptTokens())
                    .setCompletionTokens(o.usage().completionTokens()));
        }
        out.onNext(r.build());
    }

    private LogprobCandidate candidate(int id, float logprob) {
        return LogprobCandidate.newBuilder().setId(id).setText(tokenizer.decode(new int[] {id}))
                .setLogprob(logprob).build();
    }

    @Override
    public void onCompleted() {
        out.onCompleted();
    }

    @Override
    public void onFailed(GenerationFailure failure) {
        Status status = switch (failure.kind()) {
            case UNAVAILABLE -> Status.UNAVAILABLE;
            case RESOURCE_EXHAUSTED -> Status.RESOURCE_EXHAUSTED;
            case INTERNAL -> Status.INTERNAL;
        };
        out.onError(status.withDescription(failure.message()).asRuntimeException(
                RetryPushback.trailers(failure.kind() == GenerationFailure.Kind.RESOURCE_EXHAUSTED, failure.retryAfter())));
    }
}
