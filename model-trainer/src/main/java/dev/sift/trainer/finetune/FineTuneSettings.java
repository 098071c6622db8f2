package dev.sift.trainer.finetune;

/**
 * The optimiser's settings for fine-tuning a top, with BERT's defaults for classification. Build
 * with {@link #builder()}; every setting is validated in {@link Builder#build()}.
 *
 * <pre>{@code
 * FineTuneSettings settings = FineTuneSettings.builder().learningRate(3e-5).seed(7).build();
 * }</pre>
 */
public final class FineTuneSettings {

    private final double learningRate;
    private final double warmupFraction;
    private final double dropout;
    private final double clipNorm;
    private final double beta1;
    private final double beta2;
    private final double epsilon;
    private final long seed;

    private FineTuneSettings(Builder builder) {
        this.learningRate = builder.learningRate;
        this.warmupFraction = builder.warmupFraction;
        this.dropout = builder.dropout;
        this.clipNorm = builder.clipNorm;
        this.beta1 = builder.beta1;
        this.beta2 = builder.beta2;
        this.epsilon = builder.epsilon;
        this.seed = builder.seed;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Adam's peak learning rate, reached at the end of warm-up. Default 2e-5. */
    public double learningRate() {
        return learningRate;
    }

    /** Share of all steps spent warming the learning rate up from 0. Default 0.1. */
    public double warmupFraction() {
        return warmupFraction;
    }

    /**
     * Dropout rate on the fine-tuned layers' attention probabilities and outputs (not on the pooled
     * vector the head reads). Default 0.1.
     */
    public double dropout() {
        return dropout;
    }

    /** Gradients are scaled down so their global L2 norm is at most this. Default 1.0. */
    public double clipNorm() {
        return clipNorm;
    }

    public double beta1() {
        return beta1;
    }

    public double beta2() {
        return beta2;
    }

    public double epsilon() {
        return epsilon;
    }

    /** Seeds dropout; with the same data order, a run repeats exactly. Default 42. */
    public long seed() {
        return seed;
    }

    /** The schedule for a run of {@code totalSteps} steps. */
    public LearningRateSchedule schedule(long totalSteps) {
        return LearningRateSchedule.of(learningRate, warmupFraction, totalSteps);
    }

    @Override
    public String toString() {
        return "FineTuneSettings{learningRate="
                + learningRate
                + ", warmupFraction="
                + warmupFraction
                + ", dropout="
                + dropout
                + ", clipNorm="
                + clipNorm
                + ", beta1="
                + beta1
                + ", beta2="
                + beta2
                + ", epsilon="
                + epsilon
                + ", seed="
                + seed
                + "}";
    }

    /** Builds {@link FineTuneSettings}; unset settings keep their defaults. */
    public static final class Builder {
        private double learningRate = 2e-5;
        private double warmupFraction = 0.1;
        private double dropout = 0.1;
        private double clipNorm = 1.0;
        private double beta1 = 0.9;
        private double beta2 = 0.999;
        private double epsilon = 1e-6;
        private long seed = 42;

        private Builder() {}

        public Builder learningRate(double learningRate) {
            this.learningRate = learningRate;
            return this;
        }

        public Builder warmupFraction(double warmupFraction) {
            this.warmupFraction = warmupFraction;
            return this;
        }

        public Builder dropout(double dropout) {
            this.dropout = dropout;
            return this;
        }

        public Builder clipNorm(double clipNorm) {
            this.clipNorm = clipNorm;
            return this;
        }

        public Builder beta1(double beta1) {
            this.beta1 = beta1;
            return this;
        }

        public Builder beta2(double beta2) {
            this.beta2 = beta2;
            return this;
        }

        public Builder epsilon(double epsilon) {
            this.epsilon = epsilon;
            return this;
        }

        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        public FineTuneSettings build() {
            require(learningRate >= 0, "learningRate must be >= 0, not " + learningRate);
            require(
                    warmupFraction >= 0 && warmupFraction <= 1,
                    "warmupFraction must be in [0, 1], not " + warmupFraction);
            require(dropout >= 0 && dropout < 1, "dropout must be in [0, 1), not " + dropout);
            require(clipNorm > 0, "clipNorm must be > 0, not " + clipNorm);
            require(beta1 >= 0 && beta1 < 1, "beta1 must be in [0, 1), not " + beta1);
            require(beta2 >= 0 && beta2 < 1, "beta2 must be in [0, 1), not " + beta2);
            require(epsilon > 0, "epsilon must be > 0, not " + epsilon);
            return new FineTuneSettings(this);
        }

        private static void require(boolean condition, String message) {
            if (!condition) {
                throw new IllegalArgumentException(message);
            }
        }
    }
}
