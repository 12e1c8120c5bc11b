package catena.shard.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Stop tokens: EOS, end of turn and the texts llama.cpp treats as end of generation. */
class EndOfGenerationTest {

    @Test
    void gemmaStopsAtEosAndEndOfTurn() {
        Tokenizer t = TokenizerFixtures.tokenizer("tiny-gemma3-f32.gguf");
        assertThat(t.eos()).isEqualTo(1);
        assertThat(t.bos()).isEqualTo(2);
        assertThat(t.isEndOfGeneration(1)).isTrue();
        assertThat(t.isEndOfGeneration(6)).isTrue(); // <end_of_turn>
        assertThat(t.isEndOfGeneration(5)).isFalse(); // <start_of_turn>
        assertThat(t.isEndOfGeneration(2)).isFalse();
        assertThat(t.isEndOfGeneration(7)).isFalse();
        assertThat(t.isEndOfGeneration(1024)).isFalse();
        assertThat(t.isEndOfGeneration(-1)).isFalse();
    }

    @Test
    void gemma4StopsAtEosAndTurnEnd() {
        Tokenizer t = TokenizerFixtures.tokenizer("tiny-gemma4-f32.gguf");
        assertThat(t.tokenText(6)).isEqualTo("<turn|>");
        assertThat(t.isEndOfGeneration(1)).isTrue();
        assertThat(t.isEndOfGeneration(6)).isTrue();
        assertThat(t.isEndOfGeneration(5)).isFalse();
    }

    @Test
    void llamaStopsAtEndOfSentence() {
        Tokenizer t = TokenizerFixtures.tokenizer("stories260K-f32.gguf");
        assertThat(t.tokenText(2)).isEqualTo("</s>");
        assertThat(t.eos()).isEqualTo(2);
        assertThat(t.isEndOfGeneration(2)).isTrue();
        assertThat(t.isEndOfGeneration(1)).isFalse();
        assertThat(t.vocabSize()).isEqualTo(512);
    }
}
