package dev.sift.job.infer;

import dev.sift.job.models.LoadedModel;
import dev.sift.model.encode.EncodedBatch;
import dev.sift.model.encode.Encoder;
import dev.sift.model.encode.PaddedBatch;
import dev.sift.model.encode.Pooling;
import dev.sift.model.finetune.TopBatch;
import dev.sift.model.finetune.TopModel;
import dev.sift.model.tokenize.TokenizedInput;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Runs one batch of inputs through every model its rows ask for, all on one encoder, sharing as
 * much of the encoder as the models allow:
 *
 * <ul>
 *   <li>Head-only models read pooled vectors of the encoder's last layer; however many there are,
 *       one pass fetches every pooling they use.
 *   <li>Fine-tuned models read the trunk, the encoder's output after their split point, and run
 *       their own top layers and head on it ({@link TopModel}). Models with the same split share
 *       one trunk; the pass that serves the head-only models fetches that trunk in the same session
 *       run, so one pass serves both kinds. With only fine-tuned models, the pass stops at the
 *       trunk: the encoder's upper layers do not run at all.
 *   <li>Fine-tuned models with different split points each get a trunk-only pass of their own (the
 *       lowest split shares the pass with the head-only models). Running only the frozen layers
 *       between two splits would need those layers' weights outside the encoder; the encoder
 *       fetches one trunk per pass, so this is the restriction, and it costs the bottom layers once
 *       more per extra distinct split.
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
        if (tops.isEmpty()) {
            pass(heads, 0, Set.of());
            return;
        }
        boolean first = true;
        for (var split : tops.entrySet()) {
            pass(first ? heads : Set.of(), split.getKey(), split.getValue());
            first = false;
        }
    }

    /**
     * One session run over the rows that ask for any of {@code heads} or {@code tops}: the poolings
     * the heads read and, when {@code trunkLayers > 0}, the trunk the tops read.
     */
    private void pass(Set<LoadedModel> heads, int trunkLayers, Set<LoadedModel> tops) {
        List<Integer> rows = new ArrayList<>();
        for (int r = 0; r < inputs.size(); r++) {
            List<LoadedModel> models = rowModels.get(r);
            if (models.stream().anyMatch(m -> heads.contains(m) || tops.contains(m))) {
                rows.add(r);
            }
        }
        Set<Pooling> poolings = EnumSet.noneOf(Pooling.class);
        heads.forEach(head -> poolings.add(head.manifest().pooling()));
        PaddedBatch padded = PaddedBatch.of(rows.stream().map(inputs::get).toList());
        EncodedBatch encoded = encoder.encode(padded, poolings, trunkLayers);
        for (int b = 0; b < rows.size(); b++) {
            int row = rows.get(b);
            for (LoadedModel model : rowModels.get(row)) {
                if (heads.contains(model)) {
                    float[] h = encoded.vector(b, model.manifest().pooling());
                    probabilities.get(model)[row] = model.head().probabilities(h);
                }
            }
        }
        for (LoadedModel top : tops) {
            runTop(top, rows, encoded);
        }
        passes.add(
                new BatchClassifier.Pass(
                        rows.size(), padded.paddingEfficiency(), trunkLayers, tops.size()));
    }

    /** Runs {@code model}'s top on the trunk rows of the pass that ask for it. */
    private void runTop(LoadedModel model, List<Integer> passRows, EncodedBatch encoded) {
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
        float[] trunk = encoded.trunk();
        float[] hidden = new float[mine.size() * length * h];
        int[] lengths = new int[mine.size()];
        for (int i = 0; i < mine.size(); i++) {
            int b = mine.get(i);
            lengths[i] = padded.length(b);
            System.arraycopy(trunk, b * passLength * h, hidden, i * length * h, length * h);
        }
        TopModel.Outputs out =
                model.top().run(new TopBatch(mine.size(), length, hidden, lengths, null));
        for (int i = 0; i < mine.size(); i++) {
            probabilities.get(model)[passRows.get(mine.get(i))] = out.probabilities()[i];
        }
    }
}
