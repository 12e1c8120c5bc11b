package catena.it.cluster;

import catena.shard.generate.Generator;
import catena.shard.model.LoadOptions;
import catena.shard.model.Model;
import catena.shard.sample.SamplingParams;
import catena.shard.tokenizer.Tokenizer;
import catena.shard.gguf.GgufFile;
import catena.v1.FinishReason;
import catena.v1.GenerateRequest;
import catena.v1.GenerateResponse;
import catena.v1.TokenPrompt;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

/** Requests, stream collection and the one-JVM reference for the cluster tests. */
public final class Streams {
    private Streams() {
    }

    public static GenerateRequest greedy(int[] prompt, int maxTokens) {
        TokenPrompt.Builder p = TokenPrompt.newBuilder();
        Arrays.stream(prompt).forEach(p::addIds);
        return GenerateRequest.newBuilder().setTokens(p).setMaxTokens(maxTokens).setTemperature(0).build();
    }

    /** Tokens of a finished stream, without a final end-of-generation token (as Generator reports them). */
    public static int[] tokens(Iterator<GenerateResponse> it) {
        List<Integer> tokens = new ArrayList<>();
        GenerateResponse last = null;
        while (it.hasNext()) {
            last = it.next();
            tokens.addAll(last.getTokenIdsList());
        }
        if (last != null && last.getFinishReason() == FinishReason.FINISH_REASON_EOS) {
            tokens.removeLast();
        }
        return tokens.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Greedy tokens of the whole model in this JVM ({@link Generator}, the reference loop). */
    public static int[] reference(Path model, int[] prompt, int maxTokens) throws IOException {
        Tokenizer tokenizer;
        try (GgufFile f = GgufFile.open(model)) {
            tokenizer = Tokenizer.fromGguf(f.metadata());
        }
        try (Model m = Model.load(model, LoadOptions.defaults())) {
            return new Generator(m, tokenizer).generate(prompt, SamplingParams.GREEDY, maxTokens, null).tokens();
        }
    }
}
