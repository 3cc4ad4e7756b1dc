package dev.moe.cli;

/** Bounds shared by several commands' flags; each violation is a one-line usage error naming the flag. */
final class FlagChecks {
    /** Upper bound of every {@code --seconds}: one day. */
    static final double MAX_SECONDS = 86_400;
    /** Upper bound of {@code --threads}. */
    static final int MAX_THREADS = 1024;

    private FlagChecks() {}

    /** {@code --seconds}: finite, &gt; 0 and at most {@link #MAX_SECONDS}. */
    static double seconds(double value) {
        if (!(value > 0 && value <= MAX_SECONDS)) {
            throw new UsageException("--seconds must be > 0 and at most " + (long) MAX_SECONDS + " (one day), got " + value);
        }
        return value;
    }

    /** {@code --threads}: 1 to {@link #MAX_THREADS}. */
    static int threads(int value) {
        if (value < 1 || value > MAX_THREADS) {
            throw new UsageException("--threads must be between 1 and " + MAX_THREADS + ", got " + value);
        }
        return value;
    }

    /** A count flag that must be at least {@code min}. */
    static int atLeast(String flag, int value, int min) {
        if (value < min) {
            throw new UsageException(flag + " must be >= " + min + ", got " + value);
        }
        return value;
    }

    /** A float flag that must be finite and &ge; 0. */
    static float nonNegative(String flag, float value) {
        if (!(value >= 0 && Float.isFinite(value))) {
            throw new UsageException(flag + " must be finite and >= 0, got " + value);
        }
        return value;
    }
}
