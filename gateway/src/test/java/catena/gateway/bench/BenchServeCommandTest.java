package catena.gateway.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import catena.gateway.Fixtures;
import catena.gateway.app.CatenaNode;
import catena.gateway.app.Main;
import catena.gateway.cluster.PlanOwner;
import catena.gateway.model.ServedModel;
import catena.v1.GetPipelineStatsRequest;
import catena.v1.InferenceGrpc;
import catena.worker.engine.StageEngineFactory;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code catena bench serve} against a real embedded server (stories260K): its counts match the server's. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class BenchServeCommandTest {

    @Test
    void shouldReportEveryRequestAndTokensThatMatchTheServersOwnCounters() throws Exception {
        Path file = Fixtures.file("stories/stories260K-q8_0.gguf");
        try (CatenaNode node = CatenaNode.embedded(PlanOwner.Settings.forModel(file, false, 1, 1, 0),
                ServedModel.open(file), StageEngineFactory.MODEL,
                Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create()), 32)) {
            await().atMost(Duration.ofSeconds(30)).until(() -> node.topology().serving());
            PrintStream saved = System.out;
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            int code;
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            try {
                code = Main.run("bench", "serve", "--target", "127.0.0.1:" + node.port(), "--num-prompts", "6",
                        "--concurrency", "3", "--input-len", "16", "--output-len", "8", "--json");
            } finally {
                System.setOut(saved);
            }
            String text = out.toString(StandardCharsets.UTF_8);
            assertThat(code).as(text).isZero();
            assertThat(text).contains("Time to First Token").contains("Inter-token Latency");
            String[] lines = text.strip().split("\n");
            JsonNode f = new ObjectMapper().readTree(lines[lines.length - 1]);
            assertThat(f.get("completed").asInt()).isEqualTo(6);
            assertThat(f.get("failed").asInt()).isZero();
            assertThat(f.get("input_tokens").asLong()).isEqualTo(6 * 16);
            long generated = f.get("output_tokens").asLong();
            assertThat(generated).isBetween(6L, 6L * 8);
            assertThat(f.get("ttft_ms_median").asDouble()).isPositive();
            assertThat(f.get("output_throughput_tok_s").asDouble()).isPositive();

            // The stage embedded every prompt token and every generated token but each request's last.
            ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", node.port(),
                    InsecureChannelCredentials.create()).build();
            try {
                var stats = InferenceGrpc.newBlockingStub(channel).getPipelineStats(
                        GetPipelineStatsRequest.getDefaultInstance());
                assertThat(stats.getStages(0).getRows()).isEqualTo(6 * 16 + generated - 6);
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void shouldMeasureAnOpenAiCompatibleServerOverHttp() throws Exception {
        Path file = Fixtures.file("stories/stories260K-q8_0.gguf");
        try (CatenaNode node = CatenaNode.embedded(PlanOwner.Settings.forModel(file, false, 1, 1, 0),
                ServedModel.open(file), StageEngineFactory.MODEL,
                Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create()), 32)) {
            int http = node.serveOpenAi("127.0.0.1", 0, catena.gateway.security.Access.OPEN);
            await().atMost(Duration.ofSeconds(30)).until(() -> node.topology().serving());
            PrintStream saved = System.out;
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            int code;
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            try {
                code = Main.run("bench", "serve", "--api", "openai", "--target", "127.0.0.1:" + http,
                        "--max-token-id", "500", "--num-prompts", "6", "--concurrency", "3", "--input-len", "16",
                        "--output-len", "8", "--json");
            } finally {
                System.setOut(saved);
            }
            String text = out.toString(StandardCharsets.UTF_8);
            assertThat(code).as(text).isZero();
            assertThat(text).contains("OpenAI API").contains("stories260K-q8_0.gguf");
            String[] lines = text.strip().split("\n");
            JsonNode f = new ObjectMapper().readTree(lines[lines.length - 1]);
            assertThat(f.get("completed").asInt()).isEqualTo(6);
            assertThat(f.get("failed").asInt()).isZero();
            assertThat(f.get("input_tokens").asLong()).isEqualTo(6 * 16);
            // events with text: at most the tokens the server generated (a token of partial UTF-8 sends none)
            ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", node.port(),
                    InsecureChannelCredentials.create()).build();
            try {
                long rows = InferenceGrpc.newBlockingStub(channel).getPipelineStats(
                        GetPipelineStatsRequest.getDefaultInstance()).getStages(0).getRows();
                long generated = rows - 6 * 16 + 6;
                assertThat(f.get("output_tokens").asLong()).isPositive().isLessThanOrEqualTo(generated);
                assertThat(f.get("ttft_ms_median").asDouble()).isPositive();
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }
}
