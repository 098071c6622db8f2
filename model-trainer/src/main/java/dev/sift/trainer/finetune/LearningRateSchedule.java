package dev.sift.trainer.finetune;

/**
 * BERT's learning-rate schedule: a linear warm-up from 0 to {@code peak} over the first {@code
 * warmupSteps} steps, then a linear decay to 0 at {@code totalSteps}.
 *
 * @param peak the learning rate at the end of warm-up
 * @param warmupSteps steps of warm-up, at most {@code totalSteps}
 * @param totalSteps every step of the run
 */
public record LearningRateSchedule(double peak, long warmupSteps, long totalSteps) {

    public LearningRateSchedule {
        if (peak < 0 || warmupSteps < 0 || totalSteps < 1 || warmupSteps > totalSteps) {
            throw new IllegalArgumentException(
                    "Need peak >= 0 and 0 <= warmupSteps <= totalSteps >= 1; got "
                            + peak
                            + ", "
                            + warmupSteps
                            + ", "
                            + totalSteps);
        }
    }

    /** A schedule whose warm-up is {@code warmupFraction} of {@code totalSteps}. */
    public static LearningRateSchedule of(double peak, double warmupFraction, long totalSteps) {
        return new LearningRateSchedule(peak, Math.round(warmupFraction * totalSteps), totalSteps);
    }

    /** The rate for step {@code step}, counted from 0. */
    public double at(long step) {
        if (step < warmupSteps) {
            return peak * (step + 1) / warmupSteps;
        }
        if (step >= totalSteps) {
            return 0;
        }
        return peak * (totalSteps - step) / (double) (totalSteps - warmupSteps);
    }
}
