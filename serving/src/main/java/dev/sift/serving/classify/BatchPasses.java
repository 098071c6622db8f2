package dev.sift.serving.classify;

import dev.sift.model.bundle.Pooling;
import dev.sift.model.encode.EncodedBatch;
import dev.sift.model.encode.Encoder;
import dev.sift.model.encode.PaddedBatch;
import dev.sift.model.finetune.Top;
import dev.sift.model.finetune.TopBatch;
import dev.sift.model.tokenize.TokenizedInput;
import dev.sift.serving.models.LoadedModel;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Runs one batch of inputs through every model its rows ask for, all on one encoder, in one encoder
 * pass (one session run) however many models and split points there are:
 *
 * <ul>
 *   <li>Head-only models read pooled vectors of the encoder's last layer; the pass fetches every
 *       pooling they use.
 *   <li>Fine-tuned models read the trunk, the encoder's output after their split point, and run
 *       their own top layers and head on it ({@link Top}). The same pass fetches the trunk of every
 *       split point the batch's models use, each from the layers it has already run: models with
 *       different splits share the bottom layers up to the lowest split, and every layer runs once.
 *       With only fine-tuned models, the pass stops at the highest split: the encoder's upper
 *       layers do not run at all.
 * </ul>
 *
 * <p>Plain Java; one instance per batch.
 */
final class BatchPasses {

    private final Encoder encoder;
    private final List<TokenizedInput> inputs;
    private final List<List<LoadedModel>> rowModels;

    /** Per model, per batch row: its probabilities, or null where that row does not ask for it. */
    private final Map<LoadedModel, float[][]> probabilities = new IdentityHashMap<>();

    private final List<BatchClassifier.Pass> passes = new ArrayList<>();

    /**
     * @param inputs the batch's tokens, one per row
     * @param rowModels per row, the models it asks for; every model on {@code encoder}
     */
    private BatchPasses(
            Encoder encoder, List<TokenizedInput> inputs, List<List<LoadedModel>> rowModels) {
        this.encoder = encoder;
        this.inputs = inputs;
        this.rowModels = rowModels;
    }

    /** What a batch became: per model, per row, probabilities; and the passes that ran. */
    record Done(Map<LoadedModel, float[][]> probabilities, List<BatchClassifier.Pass> passes) {
        float[] probabilities(LoadedModel model, int row) {
            return probabilities.get(model)[row];
        }
    }

    static Done run(
            Encoder encoder, List<TokenizedInput> inputs, List<List<LoadedModel>> rowModels) {
        BatchPasses batch = new BatchPasses(encoder, inputs, rowModels);
        batch.run();
        return new Done(batch.probabilities, batch.passes);
    }

    private void run() {
        Set<LoadedModel> heads = new LinkedHashSet<>();
        // split point -> the fine-tuned models reading that trunk
        TreeMap<Integer, Set<LoadedModel>> tops = new TreeMap<>();
        for (List<LoadedModel> models : rowModels) {
            for (LoadedModel model : models) {
                if (model.fineTuned()) {
                    tops.computeIfAbsent(model.trunkLayers(), s -> new LinkedHashSet<>())
                            .add(model);
                } else {
                    heads.add(model);
                }
                probabilities.computeIfAbsent(model, m -> new float[inputs.size()][]);
            }
        }
        pass(heads, tops);
    }

    /**
     * One session run over the rows that ask for any model: the poolings the heads read and the
     * trunk of every split point the tops read.
     */
    private void pass(Set<LoadedModel> heads, TreeMap<Integer, Set<LoadedModel>> tops) {
        List<Integer> rows = new ArrayList<>();
        for (int r = 0; r < inputs.size(); r++) {
            if (!rowModels.get(r).isEmpty()) {
                rows.add(r);
            }
        }
        Set<Pooling> poolings = EnumSet.noneOf(Pooling.class);
        heads.forEach(head -> poolings.add(head.manifest().pooling()));
        PaddedBatch padded = PaddedBatch.of(rows.stream().map(inputs::get).toList());
        EncodedBatch encoded = encoder.encode(padded, poolings, tops.keySet());
        for (int b = 0; b < rows.size(); b++) {
            int row = rows.get(b);
            for (LoadedModel model : rowModels.get(row)) {
                if (heads.contains(model)) {
                    float[] h = encoded.vector(b, model.manifest().pooling());
                    probabilities.get(model)[row] = model.head().probabilities(h);
                }
            }
        }
        int topRuns = 0;
        for (var split : tops.entrySet()) {
            for (LoadedModel top : split.getValue()) {
                runTop(top, rows, encoded, split.getKey());
                topRuns++;
            }
        }
        int deepestTrunk = tops.isEmpty() ? 0 : tops.lastKey();
        passes.add(
                new BatchClassifier.Pass(
                        encoder.manifest().name(),
                        rows.size(),
                        padded.paddingEfficiency(),
                        deepestTrunk,
                        topRuns,
                        false));
    }

    /**
     * Runs {@code model}'s top on the rows of the pass that ask for it, on the trunk of {@code
     * split}.
     */
    private void runTop(
            LoadedModel model, List<Integer> passRows, EncodedBatch encoded, int split) {
        List<Integer> mine = new ArrayList<>(); // indexes into the pass
        for (int b = 0; b < passRows.size(); b++) {
            if (rowModels.get(passRows.get(b)).contains(model)) {
                mine.add(b);
            }
        }
        PaddedBatch padded = encoded.batch();
        int length = 0;
        for (int b : mine) {
            length = Math.max(length, padded.length(b));
        }
        // The top sees only these rows, padded to their own longest: the mask keeps padding out
        // of every real position, so the trim changes no result and saves the top's work.
        int h = encoded.hiddenSize();
        int passLength = padded.length();
        float[] trunk = encoded.trunk(split);
        float[] hidden = new float[mine.size() * length * h];
        int[] lengths = new int[mine.size()];
        for (int i = 0; i < mine.size(); i++) {
            int b = mine.get(i);
            lengths[i] = padded.length(b);
            System.arraycopy(trunk, b * passLength * h, hidden, i * length * h, length * h);
        }
        Top.Outputs out = model.top().run(new TopBatch(mine.size(), length, hidden, lengths, null));
        for (int i = 0; i < mine.size(); i++) {
            probabilities.get(model)[passRows.get(mine.get(i))] = out.probabilities()[i];
        }
    }
}
