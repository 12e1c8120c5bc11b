package catena.gateway.openai;

import catena.gateway.model.ServedModel;
import catena.gateway.session.GenerationRequest;
import catena.shard.sample.SamplingParams;
import catena.shard.tokenizer.ChatMessage;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Checks an OpenAI request body and maps it to an {@link ApiRequest}. Every bad field throws a 400
 * {@link ApiError} naming the field and its value; a model other than the served one is a 404.
 * Unknown fields are ignored (clients send many optional ones); fields whose non-default values
 * this server cannot honour (n, presence_penalty, frequency_penalty, echo, suffix, best_of) are
 * refused rather than silently ignored.
 *
 * <p>Defaults follow OpenAI: temperature 1, top_p 1; a missing seed draws a fresh one, so
 * repeated unseeded requests differ. {@code max_tokens} / {@code max_completion_tokens} default to
 * {@link #DEFAULT_MAX_TOKENS} capped to what fits the context. Chat prompts go through the
 * model's chat template (plain text for vocabularies without turn markers: the messages'
 * contents separated by blank lines); completion prompts are text (encoded with BOS) or token ids.
 */
final class RequestParser {
    static final int DEFAULT_MAX_TOKENS = 256;
    static final int MAX_STOP_STRINGS = 8;
    static final int MAX_STOP_LENGTH = 256;
    /** Tokens the repetition penalty looks back over (llama.cpp's penalty_last_n default), as on gRPC. */
    static final int REPETITION_WINDOW = 64;

    private final ServedModel model;
    private final LongSupplier seeds;

    RequestParser(ServedModel model, LongSupplier seeds) {
        this.model = model;
        this.seeds = seeds;
    }

    /** The model id clients name: the served file's name. */
    String modelId() {
        return model.name();
    }

    ApiRequest parse(ApiRequest.Endpoint endpoint, JsonNode body) {
        if (body == null || !body.isObject()) {
            throw ApiError.badRequest(null, "request body must be a JSON object");
        }
        JsonNode m = body.get("model");
        if (m == null || m.isNull()) {
            throw ApiError.badRequest("model", "model is missing: expected \"" + modelId() + "\"");
        }
        if (!m.isTextual()) {
            throw ApiError.invalid("model", m, "a string");
        }
        if (!m.asText().equals(modelId())) {
            throw ApiError.unknownModel(m.asText(), modelId());
        }
        boolean stream = bool(body, "stream", false);
        boolean includeUsage = false;
        JsonNode options = body.get("stream_options");
        if (options != null && !options.isNull()) {
            if (!stream) {
                throw ApiError.invalid("stream_options", options, "null unless stream is true");
            }
            if (!options.isObject()) {
                throw ApiError.invalid("stream_options", options, "an object");
            }
            includeUsage = bool(options, "include_usage", false);
        }
        int n = integer(body, "n", 1);
        if (n != 1) {
            throw ApiError.invalid("n", n, "1 (one choice per request)");
        }
        zero(body, "presence_penalty");
        zero(body, "frequency_penalty");
        SamplingParams sampling = sampling(body);
        List<String> stop = stops(body.get("stop"));
        boolean chat = endpoint == ApiRequest.Endpoint.CHAT;
        int logprobs = chat ? chatLogprobs(body) : completionLogprobs(body);
        // The prompt last: the other checks are cheap, tokenizing is not.
        int[] prompt = chat ? chatPrompt(body.get("messages")) : completionPrompt(body.get("prompt"));
        int maxTokens = maxTokens(body, prompt.length);
        return new ApiRequest(endpoint, new GenerationRequest(prompt, sampling, maxTokens, stop, logprobs), stream,
                includeUsage);
    }

    private SamplingParams sampling(JsonNode body) {
        float temperature = number(body, "temperature", 1f);
        if (!(temperature >= 0 && temperature <= 2)) {
            throw ApiError.invalid("temperature", temperature, "a number in [0, 2] (0 = greedy)");
        }
        float topP = number(body, "top_p", 1f);
        if (!(topP > 0 && topP <= 1)) {
            throw ApiError.invalid("top_p", topP, "a number in (0, 1]");
        }
        int topK = integer(body, "top_k", 0);
        if (topK < 0) {
            throw ApiError.invalid("top_k", topK, ">= 0 (0 = off)");
        }
        float minP = number(body, "min_p", 0f);
        if (!(minP >= 0 && minP <= 1)) {
            throw ApiError.invalid("min_p", minP, "a number in [0, 1]");
        }
        float penalty = number(body, "repetition_penalty", 1f);
        if (!(penalty > 0) || Float.isInfinite(penalty)) {
            throw ApiError.invalid("repetition_penalty", penalty, "a finite number > 0 (1 = off)");
        }
        JsonNode seed = body.get("seed");
        long s;
        if (seed == null || seed.isNull()) {
            s = seeds.getAsLong();
        } else if (seed.isIntegralNumber() && seed.canConvertToLong()) {
            s = seed.asLong();
        } else {
            throw ApiError.invalid("seed", seed, "an integer");
        }
        return new SamplingParams(temperature, topK, topP, minP, penalty, REPETITION_WINDOW, s);
    }

    private int maxTokens(JsonNode body, int promptTokens) {
        String field = "max_completion_tokens";
        int max = integer(body, field, 0);
        if (!has(body, field)) {
            field = "max_tokens";
            max = integer(body, field, 0);
        }
        int context = model.facts().contextLength();
        if (promptTokens >= context) {
            throw ApiError.badRequest(null, "prompt has " + promptTokens + " tokens, which leaves no room in the"
                    + " context length " + context);
        }
        if (!has(body, field)) {
            return Math.min(DEFAULT_MAX_TOKENS, context - promptTokens);
        }
        if (max < 1) {
            throw ApiError.invalid(field, max, ">= 1");
        }
        if ((long) promptTokens + max > context) {
            throw ApiError.invalid(field, max, "at most " + (context - promptTokens) + ": the prompt has "
                    + promptTokens + " tokens and the context length is " + context);
        }
        return max;
    }

    private static List<String> stops(JsonNode stop) {
        if (stop == null || stop.isNull()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        if (stop.isTextual()) {
            out.add(stop.asText());
        } else if (stop.isArray()) {
            if (stop.size() > MAX_STOP_STRINGS) {
                throw ApiError.invalid("stop", stop, "at most " + MAX_STOP_STRINGS + " strings");
            }
            for (JsonNode s : stop) {
                if (!s.isTextual()) {
                    throw ApiError.invalid("stop", stop, "a string or an array of strings");
                }
                out.add(s.asText());
            }
        } else {
            throw ApiError.invalid("stop", stop, "a string or an array of strings");
        }
        for (String s : out) {
            if (s.isEmpty() || s.length() > MAX_STOP_LENGTH) {
                throw ApiError.invalid("stop", stop, "strings of 1.." + MAX_STOP_LENGTH + " characters");
            }
        }
        return out;
    }

    private int[] chatPrompt(JsonNode messages) {
        if (messages == null || messages.isNull()) {
            throw ApiError.badRequest("messages", "messages is missing: expected an array of {role, content}");
        }
        if (!messages.isArray() || messages.isEmpty()) {
            throw ApiError.invalid("messages", messages, "a non-empty array of {role, content}");
        }
        if (model.chatTemplate() == null) {
            throw ApiError.badRequest("messages", "the served model " + modelId() + " has no chat template;"
                    + " use /v1/completions");
        }
        List<ChatMessage> list = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            JsonNode msg = messages.get(i);
            String param = "messages[" + i + "]";
            JsonNode role = msg.get("role");
            if (role == null || !role.isTextual()) {
                throw ApiError.invalid(param + ".role", role, "one of system, developer, user, assistant");
            }
            list.add(new ChatMessage(role.asText(), content(param + ".content", msg.get("content"))));
        }
        String text;
        try {
            text = model.chatTemplate().render(list, true);
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest("messages", e.getMessage());
        }
        return model.tokenizer().encode(text, true, true);
    }

    /** A message's content: a string, or an array of {@code {"type":"text","text":...}} parts joined. */
    private static String content(String param, JsonNode content) {
        if (content != null && content.isTextual()) {
            return content.asText();
        }
        if (content != null && content.isArray() && !content.isEmpty()) {
            StringBuilder sb = new StringBuilder();
            for (int k = 0; k < content.size(); k++) {
                JsonNode part = content.get(k);
                JsonNode text = part.get("text");
                if (!"text".equals(part.path("type").asText()) || text == null || !text.isTextual()) {
                    throw ApiError.invalid(param + "[" + k + "]", part, "a text part {\"type\":\"text\",\"text\":...}"
                            + " (this model reads text only)");
                }
                sb.append(text.asText());
            }
            return sb.toString();
        }
        throw ApiError.invalid(param, content, "a string or an array of text parts");
    }

    private int[] completionPrompt(JsonNode prompt) {
        if (prompt == null || prompt.isNull()) {
            throw ApiError.badRequest("prompt", "prompt is missing: expected a string or an array of token ids");
        }
        if (prompt.isArray() && prompt.size() == 1 && (prompt.get(0).isTextual() || prompt.get(0).isArray())) {
            prompt = prompt.get(0); // a batch of one
        }
        if (prompt.isTextual()) {
            if (prompt.asText().isEmpty()) {
                throw ApiError.invalid("prompt", "\"\"", "a non-empty string");
            }
            return model.tokenizer().encode(prompt.asText(), true, false);
        }
        if (!prompt.isArray() || prompt.isEmpty()) {
            throw ApiError.invalid("prompt", prompt, "a non-empty string or array of token ids");
        }
        int vocab = model.facts().vocabSize();
        int[] ids = new int[prompt.size()];
        Iterator<JsonNode> it = prompt.elements();
        for (int i = 0; it.hasNext(); i++) {
            JsonNode id = it.next();
            if (id.isTextual() || id.isArray()) {
                throw ApiError.invalid("prompt", "an array of " + prompt.size() + " prompts", "one prompt per"
                        + " request (n = 1)");
            }
            if (!id.isIntegralNumber() || id.asLong() < 0 || id.asLong() >= vocab) {
                throw ApiError.invalid("prompt[" + i + "]", id, "a token id in [0, " + vocab + ")");
            }
            ids[i] = id.asInt();
        }
        return ids;
    }

    private static int chatLogprobs(JsonNode body) {
        boolean on = bool(body, "logprobs", false);
        if (!has(body, "top_logprobs")) {
            return on ? 0 : GenerationRequest.NO_LOGPROBS;
        }
        int top = integer(body, "top_logprobs", 0);
        if (!on) {
            throw ApiError.invalid("top_logprobs", top, "null unless logprobs is true");
        }
        if (top < 0 || top > GenerationRequest.MAX_LOGPROBS) {
            throw ApiError.invalid("top_logprobs", top, "0.." + GenerationRequest.MAX_LOGPROBS);
        }
        return top;
    }

    private static int completionLogprobs(JsonNode body) {
        for (String f : List.of("echo")) {
            if (bool(body, f, false)) {
                throw ApiError.invalid(f, true, "false (the prompt is not echoed)");
            }
        }
        if (has(body, "suffix")) {
            throw ApiError.invalid("suffix", body.get("suffix"), "null (no insertion mode)");
        }
        int bestOf = integer(body, "best_of", 1);
        if (bestOf != 1) {
            throw ApiError.invalid("best_of", bestOf, "1");
        }
        if (!has(body, "logprobs")) {
            return GenerationRequest.NO_LOGPROBS;
        }
        int lp = integer(body, "logprobs", 0);
        if (lp < 0 || lp > GenerationRequest.MAX_LOGPROBS) {
            throw ApiError.invalid("logprobs", lp, "0.." + GenerationRequest.MAX_LOGPROBS + " (alternatives per token)");
        }
        return lp;
    }

    private static void zero(JsonNode body, String field) {
        float v = number(body, field, 0f);
        if (v != 0f) {
            throw ApiError.invalid(field, body.get(field), "0 (this server has no " + field
                    + "; use repetition_penalty)");
        }
    }

    private static boolean has(JsonNode body, String field) {
        JsonNode v = body.get(field);
        return v != null && !v.isNull();
    }

    private static boolean bool(JsonNode body, String field, boolean dflt) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isBoolean()) {
            throw ApiError.invalid(field, v, "true or false");
        }
        return v.asBoolean();
    }

    private static int integer(JsonNode body, String field, int dflt) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw ApiError.invalid(field, v, "an integer");
        }
        return v.asInt();
    }

    private static float number(JsonNode body, String field, float dflt) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isNumber()) {
            throw ApiError.invalid(field, v, "a number");
        }
        return (float) v.asDouble();
    }
}
