package dev.sift.serving.models;

/**
 * The trial versions of one model loaded in a subtask, for the classifier.
 *
 * @param shadow answers every request beside the serving version, apart; null for none
 * @param canary answers {@code canaryPercent} of the requests instead of it; null for none
 * @param canaryPercent above 0 and at most 100 where there is a canary
 */
public record LoadedTrials(LoadedModel shadow, LoadedModel canary, double canaryPercent) {}
