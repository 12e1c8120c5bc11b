package catena.gateway.openai;

import catena.gateway.session.GenerationOutput;
import catena.gateway.session.GenerationOutput.FinishReason;
import catena.gateway.session.TokenLogprob;
import catena.shard.tokenizer.Tokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Writes one request's responses in OpenAI's shapes: {@code chat.completion} /
 * {@code text_completion} objects, their streamed chunks and the final usage chunk. Stateful
 * (the first chat chunk carries the role; completion logprobs carry running text offsets, the
 * sum of the preceding tokens' piece lengths): one per request, used from one thread at a time.
 */
final class ResponseWriter {
    private final ObjectMapper json;
    private final Tokenizer tokenizer;
    private final ApiRequest request;
    private final String model;
    private final String id;
    private final long created;
    private boolean roleSent;
    private int textOffset;

    ResponseWriter(ObjectMapper json, Tokenizer tokenizer, ApiRequest request, String model, String id, long created) {
        this.json = json;
        this.tokenizer = tokenizer;
        this.request = request;
        this.model = model;
        this.id = id;
        this.created = created;
    }

    private boolean chat() {
        return request.endpoint() == ApiRequest.Endpoint.CHAT;
    }

    private ObjectNode envelope(String object) {
        ObjectNode o = json.createObjectNode();
        o.put("id", id);
        o.put("object", object);
        o.put("created", created);
        o.put("model", model);
        o.putNull("system_fingerprint");
        return o;
    }

    /** One streamed chunk for one session output (its text, logprobs and, on the last, finish reason). */
    ObjectNode chunk(GenerationOutput out) {
        ObjectNode o = envelope(chat() ? "chat.completion.chunk" : "text_completion");
        ObjectNode choice = o.putArray("choices").addObject();
        choice.put("index", 0);
        if (chat()) {
            ObjectNode delta = choice.putObject("delta");
            if (!roleSent) {
                delta.put("role", "assistant");
                roleSent = true;
            }
            if (!out.text().isEmpty() || !out.last()) {
                delta.put("content", out.text());
            }
        } else {
            choice.put("text", out.text());
        }
        logprobs(choice, out.logprobs());
        choice.put("finish_reason", out.last() ? finishReason(out.finishReason()) : null);
        if (request.includeUsage()) {
            o.putNull("usage");
        }
        return o;
    }

    /** The chunk after the last one when stream_options.include_usage is set: no choices, the usage. */
    ObjectNode usageChunk(GenerationOutput.Usage usage) {
        ObjectNode o = envelope(chat() ? "chat.completion.chunk" : "text_completion");
        o.putArray("choices");
        o.set("usage", usage(usage));
        return o;
    }

    /** The whole non-streamed response. */
    ObjectNode complete(String text, List<TokenLogprob> logprobs, FinishReason finish, GenerationOutput.Usage usage) {
        ObjectNode o = envelope(chat() ? "chat.completion" : "text_completion");
        ObjectNode choice = o.putArray("choices").addObject();
        choice.put("index", 0);
        if (chat()) {
            ObjectNode message = choice.putObject("message");
            message.put("role", "assistant");
            message.put("content", text);
            message.putNull("refusal");
        } else {
            choice.put("text", text);
        }
        logprobs(choice, logprobs);
        choice.put("finish_reason", finishReason(finish));
        o.set("usage", usage(usage));
        return o;
    }

    /** EOS and stop strings are both "stop" to OpenAI clients; max tokens or a full context is "length". */
    static String finishReason(FinishReason f) {
        return switch (f) {
            case STOP, EOS -> "stop";
            case LENGTH -> "length";
        };
    }

    private ObjectNode usage(GenerationOutput.Usage u) {
        ObjectNode o = json.createObjectNode();
        o.put("prompt_tokens", u.promptTokens());
        o.put("completion_tokens", u.completionTokens());
        o.put("total_tokens", u.promptTokens() + u.completionTokens());
        return o;
    }

    private void logprobs(ObjectNode choice, List<TokenLogprob> lps) {
        if (!request.logprobs()) {
            choice.putNull("logprobs");
            return;
        }
        ObjectNode o = choice.putObject("logprobs");
        if (chat()) {
            ArrayNode content = o.putArray("content");
            for (TokenLogprob lp : lps) {
                ObjectNode t = candidate(content.addObject(), lp.token(), lp.logprob());
                ArrayNode top = t.putArray("top_logprobs");
                for (int k = 0; k < lp.topIds().length; k++) {
                    candidate(top.addObject(), lp.topIds()[k], lp.topLogprobs()[k]);
                }
            }
            o.putNull("refusal");
            return;
        }
        ArrayNode tokens = o.putArray("tokens");
        ArrayNode tokenLogprobs = o.putArray("token_logprobs");
        ArrayNode top = o.putArray("top_logprobs");
        ArrayNode offsets = o.putArray("text_offset");
        for (TokenLogprob lp : lps) {
            String piece = piece(lp.token());
            tokens.add(piece);
            tokenLogprobs.add(lp.logprob());
            ObjectNode alternatives = top.addObject();
            for (int k = 0; k < lp.topIds().length; k++) {
                alternatives.put(piece(lp.topIds()[k]), lp.topLogprobs()[k]);
            }
            offsets.add(textOffset);
            textOffset += piece.length();
        }
    }

    private ObjectNode candidate(ObjectNode t, int token, float logprob) {
        t.put("token", piece(token));
        t.put("logprob", logprob);
        ArrayNode bytes = t.putArray("bytes");
        for (byte b : tokenizer.tokenBytes(token)) {
            bytes.add(b & 0xff);
        }
        return t;
    }

    /**
     * The text the token stands for in the completion, leading space included (so the pieces of
     * a completion concatenate to its text); a piece that is part of a UTF-8 sequence shows as
     * U+FFFD, its {@code bytes} are exact.
     */
    String piece(int token) {
        return new String(tokenizer.tokenBytes(token), StandardCharsets.UTF_8);
    }
}
