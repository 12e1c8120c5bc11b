/**
 * Text to token ids and back for GGUF vocabularies, reproducing llama.cpp's tokenizers
 * exactly (SentencePiece by scores for Gemma 1-3 and Llama, Gemma 4's BPE by merge rank), an
 * incremental UTF-8 detokenizer, and the Gemma chat formats. Depends only on
 * {@code catena.shard.gguf} and the JDK; must not depend on the model, kernels or sampler.
 */
package catena.shard.tokenizer;
