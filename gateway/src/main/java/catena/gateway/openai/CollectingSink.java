package catena.gateway.openai;

import catena.gateway.session.GenerationFailure;
import catena.gateway.session.GenerationOutput;
import catena.gateway.session.GenerationSink;
import catena.gateway.session.TokenLogprob;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Collects a whole generation for a non-streamed response; always ready (the text is bounded by max tokens). */
final class CollectingSink implements GenerationSink {
    /** The generation as one piece. */
    record Result(String text, List<TokenLogprob> logprobs, GenerationOutput.FinishReason finishReason,
                  GenerationOutput.Usage usage) {
    }

    private final StringBuilder text = new StringBuilder();
    private final List<TokenLogprob> logprobs = new ArrayList<>();
    private final CompletableFuture<Result> result = new CompletableFuture<>();
    private GenerationOutput last;

    CompletableFuture<Result> result() {
        return result;
    }

    /** The generation was cancelled because the client closed the connection: answer, do not wait. */
    void cancelled() {
        result.completeExceptionally(ApiError.clientClosed());
    }

    @Override
    public boolean isReady() {
        return true;
    }

    @Override
    public void onOutput(GenerationOutput output) {
        text.append(output.text());
        logprobs.addAll(output.logprobs());
        if (output.last()) {
            last = output;
        }
    }

    @Override
    public void onCompleted() {
        if (last == null) {
            result.completeExceptionally(new IllegalStateException("generation completed without a last output"));
            return;
        }
        result.complete(new Result(text.toString(), List.copyOf(logprobs), last.finishReason(), last.usage()));
    }

    @Override
    public void onFailed(GenerationFailure failure) {
        result.completeExceptionally(Errors.of(failure));
    }
}
