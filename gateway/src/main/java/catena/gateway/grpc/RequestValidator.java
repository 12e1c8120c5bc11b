package catena.gateway.grpc;

import catena.gateway.model.ServedModel;
import catena.gateway.session.GenerationRequest;
import catena.shard.sample.SamplingParams;
import catena.shard.tokenizer.ChatMessage;
import catena.v1.GenerateRequest;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks a {@link GenerateRequest} and maps it to a {@link GenerationRequest}: the prompt becomes
 * token ids (text with BOS, chat through the model's template, ids as given); every bad field
 * throws {@link InvalidRequestException} naming the field, its value and the rule.
 */
final class RequestValidator {
    /** max_tokens when the request leaves it 0 (capped to what fits the context). */
    static final int DEFAULT_MAX_TOKENS = 256;
    static final int MAX_STOP_STRINGS = 8;
    static final int MAX_STOP_LENGTH = 256;
    /** Tokens the repetition penalty looks back over (llama.cpp's penalty_last_n default). */
    static final int REPETITION_WINDOW = 64;

    private final ServedModel model;

    RequestValidator(ServedModel model) {
        this.model = model;
    }

    GenerationRequest validate(GenerateRequest r) {
        SamplingParams sampling = sampling(r);
        List<String> stop = stops(r);
        if (r.getMaxTokens() < 0) {
            throw new InvalidRequestException("max_tokens=" + r.getMaxTokens() + ", expected >= 0 (0 = default)");
        }
        int[] prompt = prompt(r);
        int context = model.facts().contextLength();
        if (prompt.length >= context) {
            throw new InvalidRequestException("prompt has " + prompt.length + " tokens, which leaves no room in the "
                    + "context length " + context);
        }
        int maxTokens = r.getMaxTokens();
        if (maxTokens == 0) {
            maxTokens = Math.min(DEFAULT_MAX_TOKENS, context - prompt.length);
        } else if ((long) prompt.length + maxTokens > context) {
            throw new InvalidRequestException("prompt (" + prompt.length + " tokens) + max_tokens (" + maxTokens
                    + ") = " + (prompt.length + (long) maxTokens) + " exceeds the context length " + context);
        }
        int logprobs = GenerationRequest.NO_LOGPROBS;
        if (r.hasLogprobs()) {
            logprobs = r.getLogprobs();
            if (logprobs < 0 || logprobs > GenerationRequest.MAX_LOGPROBS) {
                throw new InvalidRequestException("logprobs=" + logprobs + ", expected 0.."
                        + GenerationRequest.MAX_LOGPROBS + " (alternatives per token)");
            }
        }
        return new GenerationRequest(prompt, sampling, maxTokens, stop, logprobs);
    }

    private int[] prompt(GenerateRequest r) {
        return switch (r.getPromptCase()) {
            case TEXT -> {
                if (r.getText().isEmpty()) {
                    throw new InvalidRequestException("prompt text is empty");
                }
                yield model.tokenizer().encode(r.getText(), true, false);
            }
            case CHAT -> {
                if (r.getChat().getMessagesCount() == 0) {
                    throw new InvalidRequestException("chat prompt has no messages");
                }
                if (model.chatTemplate() == null) {
                    throw new InvalidRequestException("the served model " + model.name() + " has no chat template;"
                            + " send a text prompt");
                }
                List<ChatMessage> messages = new ArrayList<>();
                for (int i = 0; i < r.getChat().getMessagesCount(); i++) {
                    var m = r.getChat().getMessages(i);
                    if (m.getRole().isEmpty() || m.getContent().isEmpty()) {
                        throw new InvalidRequestException("chat message " + i + " needs a role and non-empty content");
                    }
                    messages.add(new ChatMessage(m.getRole(), m.getContent()));
                }
                yield model.tokenizer().encode(model.chatTemplate().render(messages, true), true, true);
            }
            case TOKENS -> {
                int n = r.getTokens().getIdsCount();
                if (n == 0) {
                    throw new InvalidRequestException("prompt token ids are empty");
                }
                int vocab = model.facts().vocabSize();
                int[] ids = new int[n];
                for (int i = 0; i < n; i++) {
                    int id = r.getTokens().getIds(i);
                    if (id < 0 || id >= vocab) {
                        throw new InvalidRequestException("prompt token id " + id + " at index " + i
                                + " is outside the vocabulary [0, " + vocab + ")");
                    }
                    ids[i] = id;
                }
                yield ids;
            }
            case PROMPT_NOT_SET -> throw new InvalidRequestException("prompt is missing: set text, chat or tokens");
        };
    }

    private static SamplingParams sampling(GenerateRequest r) {
        float temperature = r.getTemperature();
        if (!(temperature >= 0) || Float.isInfinite(temperature)) {
            throw new InvalidRequestException("temperature=" + temperature + ", expected a finite number >= 0");
        }
        if (r.getTopK() < 0) {
            throw new InvalidRequestException("top_k=" + r.getTopK() + ", expected >= 0 (0 = off)");
        }
        float topP = r.hasTopP() ? r.getTopP() : 1f;
        if (!(topP > 0 && topP <= 1)) {
            throw new InvalidRequestException("top_p=" + topP + ", expected a number in (0, 1]");
        }
        float minP = r.getMinP();
        if (!(minP >= 0 && minP <= 1)) {
            throw new InvalidRequestException("min_p=" + minP + ", expected a number in [0, 1]");
        }
        float penalty = r.hasRepetitionPenalty() ? r.getRepetitionPenalty() : 1f;
        if (!(penalty > 0) || Float.isInfinite(penalty)) {
            throw new InvalidRequestException("repetition_penalty=" + penalty + ", expected a finite number > 0");
        }
        return new SamplingParams(temperature, r.getTopK(), topP, minP, penalty, REPETITION_WINDOW, r.getSeed());
    }

    private static List<String> stops(GenerateRequest r) {
        if (r.getStopCount() > MAX_STOP_STRINGS) {
            throw new InvalidRequestException("stop has " + r.getStopCount() + " strings, expected at most "
                    + MAX_STOP_STRINGS);
        }
        for (int i = 0; i < r.getStopCount(); i++) {
            int len = r.getStop(i).length();
            if (len == 0 || len > MAX_STOP_LENGTH) {
                throw new InvalidRequestException("stop[" + i + "] has " + len + " characters, expected 1.."
                        + MAX_STOP_LENGTH);
            }
        }
        return r.getStopList();
    }
}
