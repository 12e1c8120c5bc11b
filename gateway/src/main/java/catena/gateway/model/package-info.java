/** What the gateway knows of the served model: metadata, tokenizer, chat template. No weights. */
package catena.gateway.model;
