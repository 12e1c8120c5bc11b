package catena.shard.cli;

/** Parses "2,17,33" lists of token ids. */
final class Ids {
    private Ids() {
    }

    static int[] parse(String option, String csv) {
        String[] parts = csv.trim().split("\\s*,\\s*");
        if (csv.isBlank()) {
            throw new BadInputException(option + " is empty; give comma-separated token ids such as 2,17,33");
        }
        int[] ids = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                ids[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                throw new BadInputException(option + ": '" + parts[i] + "' is not a token id");
            }
        }
        return ids;
    }
}
