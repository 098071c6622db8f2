package dev.sift.model.encode;

import dev.sift.model.bundle.Pooling;
import dev.sift.model.tokenize.TokenizedInput;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What one forward pass costs where an encoder runs: a fixed part per pass (kernel launches, graph
 * dispatch, small-matrix inefficiency) plus a price per padded token. Batch planning trades the two
 * off, and their ratio differs by CPU, thread count and GPU, so it is measured when an encoder
 * loads ({@link #measure}) rather than written down.
 *
 * <pre>{@code
 * PassCost cost = PassCost.measure(encoder); // a few passes at two batch shapes
 * int overhead = cost.overheadTokens(); // e.g. 84 for BERT-base on 2 CPU cores
 * }</pre>
 *
 * @param fixedMillis the cost of a pass regardless of its size
 * @param millisPerToken the cost of each padded token ({@code batch size × length})
 */
public record PassCost(double fixedMillis, double millisPerToken) {

    /**
     * BERT-base on this project's 2-core build machine (46 ms + 0.55 ms per token): used only when
     * a measurement cannot be fitted.
     */
    public static final PassCost FALLBACK = new PassCost(46, 0.55);

    /** Beyond this the planner would merge everything it may anyway; keeps the sums in range. */
    static final int MAX_OVERHEAD_TOKENS = 1 << 20;

    private static final Logger LOG = LoggerFactory.getLogger(PassCost.class);

    /** Small and large calibration shapes {@code {batch, length}}, before capping at max length. */
    private static final int[][] SHAPES = {{1, 16}, {8, 64}};

    /** Timed passes per shape, after one untimed warm-up pass each. */
    private static final int REPEATS = 3;

    public PassCost {
        if (!(fixedMillis >= 0) || !(millisPerToken > 0) || Double.isInfinite(fixedMillis)) {
            throw new IllegalArgumentException(
                    "Need fixedMillis >= 0 and millisPerToken > 0, got "
                            + fixedMillis
                            + " and "
                            + millisPerToken);
        }
    }

    /** One timed pass over {@code tokens} padded tokens. */
    public record Sample(int tokens, double millis) {}

    /** The fixed cost in padded-token equivalents: what the batch planner weighs a pass at. */
    public int overheadTokens() {
        double tokens = fixedMillis / millisPerToken;
        return tokens >= MAX_OVERHEAD_TOKENS ? MAX_OVERHEAD_TOKENS : (int) Math.round(tokens);
    }

    /**
     * Fits {@code millis = fixed + perToken × tokens} by least squares through the fastest sample
     * of each token count: a pass can only be slowed down by others sharing the machine, never sped
     * up, so the minimum is the least noisy estimate of each shape's cost. A negative fitted
     * intercept becomes 0. When the larger shape is no slower (a GPU, or an encoder so small that
     * only the pass itself costs), tokens are priced at the smallest positive value, so the
     * overhead saturates at {@link #MAX_OVERHEAD_TOKENS} and the planner runs as few passes as its
     * limits allow.
     *
     * @throws IllegalArgumentException with fewer than two token counts
     */
    public static PassCost fit(List<Sample> samples) {
        Map<Integer, Double> fastest = new TreeMap<>();
        for (Sample sample : samples) {
            fastest.merge(sample.tokens(), sample.millis(), Math::min);
        }
        if (fastest.size() < 2) {
            throw new IllegalArgumentException(
                    "Need samples at two token counts or more, got " + fastest.keySet());
        }
        double n = fastest.size();
        double meanX = fastest.keySet().stream().mapToDouble(x -> x).sum() / n;
        double meanY = fastest.values().stream().mapToDouble(y -> y).sum() / n;
        double sxy = 0;
        double sxx = 0;
        for (var point : fastest.entrySet()) {
            double dx = point.getKey() - meanX;
            sxy += dx * (point.getValue() - meanY);
            sxx += dx * dx;
        }
        double slope = sxy / sxx;
        if (!(slope > 0)) {
            return new PassCost(Math.max(0, meanY), Double.MIN_VALUE);
        }
        return new PassCost(Math.max(0, meanY - slope * meanX), slope);
    }

    /**
     * Times a few passes at a small and a larger batch shape and fits them; falls back to {@link
     * #FALLBACK} with a warning when the encoder is too short for two shapes. About {@code 2 × (1 +
     * 3)} passes: milliseconds on a tiny encoder, about a second and a half for BERT-base on 2 CPU
     * cores.
     */
    public static PassCost measure(Encoder encoder) {
        int maxLength = encoder.manifest().maxSeqLen();
        List<PaddedBatch> shapes = new ArrayList<>();
        for (int[] shape : SHAPES) {
            shapes.add(batch(shape[0], Math.min(shape[1], maxLength)));
        }
        long start = System.nanoTime();
        for (PaddedBatch batch : shapes) {
            encoder.encode(batch, EnumSet.of(Pooling.CLS)); // warm-up: first runs pick kernels
        }
        List<Sample> samples = new ArrayList<>();
        for (int r = 0; r < REPEATS; r++) {
            // Interleaved, so a slow spell on a shared machine hits both shapes alike.
            for (PaddedBatch batch : shapes) {
                long t0 = System.nanoTime();
                encoder.encode(batch, EnumSet.of(Pooling.CLS));
                samples.add(
                        new Sample(batch.size() * batch.length(), (System.nanoTime() - t0) / 1e6));
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        try {
            PassCost cost = fit(samples);
            LOG.info(
                    "Calibrated {} on {}: {} ({} passes in {} s)",
                    encoder.manifest().name(),
                    encoder.device(),
                    cost,
                    samples.size() + shapes.size(),
                    String.format(java.util.Locale.ROOT, "%.2f", seconds));
            return cost;
        } catch (IllegalArgumentException e) {
            LOG.warn(
                    "Could not calibrate {} ({}); planning with {}",
                    encoder.manifest().name(),
                    e.getMessage(),
                    FALLBACK);
            return FALLBACK;
        }
    }

    private static PaddedBatch batch(int size, int length) {
        // Token values do not change the work of a dense encoder; id 0 is in every vocabulary.
        List<TokenizedInput> inputs = new ArrayList<>(size);
        for (int b = 0; b < size; b++) {
            inputs.add(new TokenizedInput(new int[length], new int[length]));
        }
        return PaddedBatch.of(inputs);
    }

    @Override
    public String toString() {
        return String.format(
                java.util.Locale.ROOT,
                "%.2f ms per pass + %.5f ms per token (%d tokens)",
                fixedMillis,
                millisPerToken,
                overheadTokens());
    }
}
