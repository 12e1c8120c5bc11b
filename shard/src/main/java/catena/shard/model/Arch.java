package catena.shard.model;

import catena.shard.gguf.GgufFormatException;

/** The {@code general.architecture} values the engine runs. */
public enum Arch {
    LLAMA("llama"),
    GEMMA("gemma"),
    GEMMA2("gemma2"),
    GEMMA3("gemma3"),
    GEMMA4("gemma4");

    /** The GGUF spelling, also the prefix of the architecture's metadata keys. */
    public final String key;

    Arch(String key) {
        this.key = key;
    }

    public static Arch of(String name) {
        for (Arch a : values()) {
            if (a.key.equals(name)) {
                return a;
            }
        }
        throw new GgufFormatException("architecture '" + name + "' is not supported (Catena runs llama, gemma, "
                + "gemma2, gemma3 and gemma4)");
    }

    public boolean isGemma() {
        return this != LLAMA;
    }
}
