package catena.shard.cli;

import catena.shard.generate.Generator;
import catena.shard.model.Model;
import catena.shard.sample.SamplingParams;
import catena.shard.tokenizer.ChatMessage;
import catena.shard.tokenizer.ChatTemplate;
import catena.shard.tokenizer.Tokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate text from a prompt, streaming it to stdout as it is produced.")
final class GenerateCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Prompt prompt;

    static final class Prompt {
        @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "prompt text")
        String text;

        @Option(names = "--prompt-ids", paramLabel = "2,17,...", description = "prompt as token ids (no template, no BOS added)")
        String ids;
    }

    @Option(names = "--chat", description = "wrap the prompt in the model's chat template as one user turn")
    boolean chat;

    @Option(names = "--system", paramLabel = "TEXT", description = "system instruction (with --chat)")
    String system;

    @Option(names = {"-n", "--max-tokens"}, defaultValue = "256", description = "most tokens to generate (default ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "0.8", description = "0 = greedy (default ${DEFAULT-VALUE})")
    float temperature;

    @Option(names = "--top-k", defaultValue = "0", description = "0 = off, as in the API (default ${DEFAULT-VALUE})")
    int topK;

    @Option(names = "--top-p", defaultValue = "1.0", description = "1 = off, as in the API (default ${DEFAULT-VALUE})")
    float topP;

    @Option(names = "--min-p", defaultValue = "0", description = "0 = off, as in the API (default ${DEFAULT-VALUE})")
    float minP;

    @Option(names = "--repeat-penalty", defaultValue = "1.0", description = "1 = off (default ${DEFAULT-VALUE})")
    float repeatPenalty;

    @Option(names = "--repeat-last-n", defaultValue = "64", description = "tokens the penalty looks back over (default ${DEFAULT-VALUE})")
    int repeatLastN;

    @Option(names = "--seed", description = "random seed (default: random; printed with --json)")
    Long seed;

    @Option(names = "--json", description = "end with one JSON line {\"prompt_ids\":[...],\"tokens\":[...],\"text\":\"...\"}")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (maxTokens < 0) {
            throw new BadInputException("--max-tokens must not be negative");
        }
        long s = seed != null ? seed : new java.security.SecureRandom().nextLong();
        SamplingParams params = new SamplingParams(temperature, topK, topP, minP, repeatPenalty, repeatLastN, s);
        params.validate();
        // Model text is UTF-8 whatever the terminal's locale says (System.out encodes with stdout.encoding).
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        try (Model model = modelOptions.load()) {
            Tokenizer tokenizer = Tokenizer.fromGguf(model.metadata());
            ChatTemplate template = chat ? ChatTemplate.forModel(model.metadata()) : null;
            int[] ids = promptIds(tokenizer, template);
            Generator.Result r = new Generator(model, tokenizer).generate(ids, params, maxTokens, (id, piece) -> {
                out.print(piece);
                out.flush();
            });
            out.println();
            if (json) {
                ObjectMapper om = new ObjectMapper();
                ObjectNode o = om.createObjectNode();
                o.putPOJO("prompt_ids", r.promptIds());
                o.putPOJO("tokens", r.tokens());
                o.put("text", r.text());
                o.put("finish_reason", r.finishReason().name().toLowerCase(java.util.Locale.ROOT));
                o.put("seed", s);
                out.println(om.writeValueAsString(o));
            }
        }
        return 0;
    }

    private int[] promptIds(Tokenizer tokenizer, ChatTemplate template) {
        if (prompt.ids != null) {
            if (chat) {
                throw new BadInputException("--chat needs --prompt text, not --prompt-ids");
            }
            return Ids.parse("--prompt-ids", prompt.ids);
        }
        if (prompt.text.isEmpty()) {
            throw new BadInputException("--prompt is empty");
        }
        if (template != null) {
            List<ChatMessage> msgs = new ArrayList<>();
            if (system != null) {
                msgs.add(new ChatMessage("system", system));
            }
            msgs.add(new ChatMessage("user", prompt.text));
            return tokenizer.encode(template.render(msgs, true), true, true);
        }
        return tokenizer.encode(prompt.text, true, true);
    }
}
