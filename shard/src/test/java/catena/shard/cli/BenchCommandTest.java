package catena.shard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import catena.shard.Fixtures;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class BenchCommandTest {

    @Test
    void shouldEndWithOneJsonLineOfPositiveMeasurementsWhenJson() throws Exception {
        String model = Fixtures.file("tiny/tiny-gemma3-q8_0.gguf").toString();
        CliRun r = CliRun.of("bench", "--model", model, "--threads", "2", "--prompt", "8", "--gen", "4",
                "--batch", "3", "--batch-prompt", "4", "--repeats", "1", "--probe-mib", "16", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("bench: prefill 1/1", "bench: batched decode x3 1/1");
        String[] lines = r.out().strip().split("\n");
        JsonNode j = new ObjectMapper().readTree(lines[lines.length - 1]);
        for (String key : new String[] {"prefill_tok_s", "decode_tok_s", "batch_decode_tok_s", "bytes_per_token",
                "bandwidth_gb_s", "decode_efficiency"}) {
            assertThat(j.get(key).asDouble()).as(key).isPositive();
        }
        assertThat(j.get("batch").asInt()).isEqualTo(3);
        double expected = j.get("bytes_per_token").asDouble() * j.get("decode_tok_s").asDouble()
                / (j.get("bandwidth_gb_s").asDouble() * 1e9);
        assertThat(j.get("decode_efficiency").asDouble()).isCloseTo(expected, org.assertj.core.data.Percentage.withPercentage(1e-9));
        // the efficiency counts the model's Q8_0 bytes; what is held (f32 block scales) is reported beside it
        assertThat(j.get("resident_bytes_per_token").asLong()).isGreaterThan(j.get("bytes_per_token").asLong());
    }

    @Test
    void profileTimesTheLayerStepsOfThePrefillAndBothDecodeRuns() {
        String model = Fixtures.file("tiny/tiny-gemma3-q8_0.gguf").toString();
        CliRun r = CliRun.of("bench", "--model", model, "--threads", "2", "--prompt", "8", "--gen", "4",
                "--batch", "3", "--batch-prompt", "4", "--repeats", "1", "--probe-mib", "16", "--profile");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("ms per prefill of 8 tokens | per decode step: 1 sequence | 3 sequences",
                "FFN gate and up projections",
                "attention over the cache", "final norm and output head", "total (forward + head)");
        String total = r.out().lines().filter(l -> l.contains("total (forward + head)")).findFirst().orElseThrow();
        String[] ms = total.replace("total (forward + head)", "").split("\\|");
        assertThat(Double.parseDouble(ms[0].strip())).isPositive();
        assertThat(Double.parseDouble(ms[1].strip())).isPositive();
        assertThat(Double.parseDouble(ms[2].strip())).isPositive();
    }

    @Test
    void shouldExitTwoWithOneLineWhenACountIsNotPositive() {
        String model = Fixtures.file("tiny/tiny-gemma3-q8_0.gguf").toString();
        CliRun r = CliRun.of("bench", "--model", model, "--gen", "0");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err().strip()).isEqualTo("catena-shard: --gen must be at least 1, got 0");
    }
}
