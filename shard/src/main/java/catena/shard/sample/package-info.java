/**
 * Next-token selection: llama.cpp's default sampler chain (repetition penalty, top-k, top-p, min-p,
 * temperature, draw) with a counter-based random draw, so step k of a sequence gives the same token on
 * any replica and in any call order. Depends on the JDK only; knows nothing of models or tokenizers.
 */
package catena.shard.sample;
