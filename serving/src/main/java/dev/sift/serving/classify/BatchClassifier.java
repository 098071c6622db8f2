package dev.sift.serving.classify;

import dev.sift.model.head.ClassificationHead;
import dev.sift.model.tokenize.TokenizedInput;
import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.ErrorCode;
import dev.sift.schemas.LabelProbability;
import dev.sift.serving.models.LoadedModel;
import dev.sift.serving.models.LoadedTrials;
import dev.sift.serving.request.ClassifyRequest;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Classifies a flushed buffer of requests with the models serving right now. Requests are grouped
 * by the encoder their models share; within a group they are sorted by token length and cut by
 * {@link BatchPlanner} into encoder batches of similar lengths (at most {@code maxBatchSize} inputs
 * and {@code maxBatchTokens} padded tokens, weighing each pass at the encoder's measured overhead),
 * each padded only to its own longest input. Every model on that encoder reads the same pass (see
 * {@link BatchPasses}): head-only models its pooled vectors, fine-tuned models its trunk, on which
 * each runs its own top layers and head; a blended model then combines that answer with its n-gram
 * model's ({@link LoadedModel#answer}). A cascading version answers first from its n-gram model
 * where that is sure enough ({@link LoadedModel#firstStage}); only the rest reach the encoder, so a
 * request every model of which answers that way costs no encoder work at all. Outcomes come back in
 * the order the requests arrived, and each request's results in the order it named its models.
 *
 * <p>A model with trials ({@link LoadedTrials}) is answered, for a request its canary's stable hash
 * picks ({@link CanaryRouting}), by the canary instead of the serving version; and for every
 * request also by its shadow, whose answers come back apart ({@link Outcome#shadowResults}). Both
 * ride in the same passes as the serving versions: a trial version on the same encoder costs its
 * head or top, not another encoder pass.
 *
 * <p>Plain Java, no Flink: the operator holds buffers, timers and state and calls this.
 */
public final class BatchClassifier {

    /**
     * What one request became: its results, or the reason it was refused.
     *
     * @param shadowResults the answers of shadow versions, which are not results: for comparison
     */
    public record Outcome(
            ClassifyRequest request,
            List<ClassificationResult> results,
            ErrorCode errorCode,
            String reason,
            List<ClassificationResult> shadowResults) {
        public boolean refused() {
            return errorCode != null;
        }
    }

    /**
     * One encoder pass, for metrics.
     *
     * @param encoder the name of the encoder that ran it
     * @param size inputs in the pass
     * @param paddingEfficiency real tokens over padded slots
     * @param trunkLayers the deepest trunk the pass fetched for fine-tuned models (it fetched the
     *     trunk of every split its models use); 0 when it served head-only models alone
     * @param topRuns fine-tuned tops run on those trunks
     * @param forShadowsOnly every input of the pass was there for a shadow version alone: a pass
     *     the serving versions did not need
     */
    public record Pass(
            String encoder,
            int size,
            double paddingEfficiency,
            int trunkLayers,
            int topRuns,
            boolean forShadowsOnly) {

        Pass forShadows() {
            return new Pass(encoder, size, paddingEfficiency, trunkLayers, topRuns, true);
        }
    }

    /** Outcomes in arrival order, and the passes that produced them. */
    public record Flush(List<Outcome> outcomes, List<Pass> passes) {}

    /**
     * A request's tokens as computed on arrival (to count them against the token budget), for the
     * encoder key they were computed for; reused at flush instead of tokenizing twice.
     */
    public record Tokens(String encoderKey, TokenizedInput input) {}

    /** The job's {@code sift.batch.max-size} default: requests per encoder pass. */
    public static final int DEFAULT_MAX_BATCH_SIZE = 32;

    /** The job's {@code sift.batch.max-tokens} default: padded tokens per encoder pass. */
    public static final int DEFAULT_MAX_BATCH_TOKENS = 2048;

    private final int maxBatchSize;
    private final int maxBatchTokens;

    public BatchClassifier(int maxBatchSize, int maxBatchTokens) {
        this.maxBatchSize = maxBatchSize;
        this.maxBatchTokens = maxBatchTokens;
    }

    /**
     * Classifies a finite list, {@code maxBatchSize} requests at a time as the job flushes them,
     * tokenizing at flush: what {@code sift-trainer predict} and {@code evaluate} run.
     *
     * @return an outcome per request, in order
     */
    public List<Outcome> classifyAll(
            List<ClassifyRequest> requests,
            Map<String, LoadedModel> models,
            List<String> defaults,
            Clock clock) {
        List<Outcome> outcomes = new ArrayList<>(requests.size());
        for (int from = 0; from < requests.size(); from += maxBatchSize) {
            List<ClassifyRequest> chunk =
                    requests.subList(from, Math.min(requests.size(), from + maxBatchSize));
            outcomes.addAll(classify(chunk, null, models, defaults, clock).outcomes());
        }
        return outcomes;
    }

    /**
     * @param arrivalTokens per request, its tokens from arrival or null; null for none at all
     * @param models the serving models by name
     * @param defaults models applied when a request names none; all serving models, by name, when
     *     empty
     */
    public Flush classify(
            List<ClassifyRequest> requests,
            List<Tokens> arrivalTokens,
            Map<String, LoadedModel> models,
            List<String> defaults,
            Clock clock) {
        return classify(requests, arrivalTokens, models, Map.of(), defaults, clock);
    }

    /**
     * As above, with the trials of the models that have any.
     *
     * @param trials per model name, its loaded trial versions
     */
    public Flush classify(
            List<ClassifyRequest> requests,
            List<Tokens> arrivalTokens,
            Map<String, LoadedModel> models,
            Map<String, LoadedTrials> trials,
            List<String> defaults,
            Clock clock) {
        Outcome[] outcomes = new Outcome[requests.size()];
        List<List<ClassificationResult>> results = new ArrayList<>(requests.size());
        List<List<ClassificationResult>> shadowResults = new ArrayList<>(requests.size());
        for (int i = 0; i < requests.size(); i++) {
            results.add(new ArrayList<>());
            shadowResults.add(new ArrayList<>());
        }
        // the shadow versions, whose answers go apart
        Set<LoadedModel> shadows = Collections.newSetFromMap(new IdentityHashMap<>());
        trials.values().stream()
                .map(LoadedTrials::shadow)
                .filter(Objects::nonNull)
                .forEach(shadows::add);
        // per request, the models it asks for in its order: the order of its results
        List<List<String>> named = new ArrayList<>(requests.size());
        // encoder key -> items (request index, its models on that encoder)
        Map<String, List<Item>> groups = new LinkedHashMap<>();
        for (int i = 0; i < requests.size(); i++) {
            ClassifyRequest request = requests.get(i);
            List<String> names =
                    !request.models.isEmpty()
                            ? request.models
                            : !defaults.isEmpty()
                                    ? defaults
                                    : models.keySet().stream().sorted().toList();
            named.add(names);
            List<String> unknown = names.stream().filter(n -> !models.containsKey(n)).toList();
            if (names.isEmpty() || !unknown.isEmpty()) {
                outcomes[i] =
                        new Outcome(
                                request,
                                List.of(),
                                ErrorCode.UNKNOWN_MODEL,
                                names.isEmpty()
                                        ? "No model is serving yet"
                                        : "Request "
                                                + request.id
                                                + " names "
                                                + unknown
                                                + ", which this job does not serve; it serves "
                                                + models.keySet(),
                                List.of());
                continue;
            }
            Map<String, List<LoadedModel>> byEncoder = new LinkedHashMap<>();
            Map<LoadedModel, float[]> scored = new IdentityHashMap<>();
            for (LoadedModel model : answering(request, names, models, trials)) {
                LoadedModel.FirstStage first = model.firstStage(request.text, request.textB);
                if (first != null && first.sure()) {
                    Instant now = clock.instant();
                    (shadows.contains(model) ? shadowResults : results)
                            .get(i)
                            .add(
                                    result(
                                            request,
                                            model,
                                            first.ngramProbabilities(),
                                            now,
                                            Stage.NGRAM));
                    continue;
                }
                if (first != null) {
                    scored.put(model, first.ngramProbabilities());
                }
                byEncoder.computeIfAbsent(model.encoderKey(), k -> new ArrayList<>()).add(model);
            }
            for (var entry : byEncoder.entrySet()) {
                Tokens known = arrivalTokens == null ? null : arrivalTokens.get(i);
                TokenizedInput tokens =
                        known != null && known.encoderKey().equals(entry.getKey())
                                ? known.input()
                                : null;
                groups.computeIfAbsent(entry.getKey(), k -> new ArrayList<>())
                        .add(new Item(i, request, entry.getValue(), tokens, scored));
            }
        }

        List<Pass> passes = new ArrayList<>();
        for (List<Item> group : groups.values()) {
            runGroup(group, results, shadowResults, shadows, passes, clock);
        }
        for (int i = 0; i < outcomes.length; i++) {
            if (outcomes[i] == null) {
                List<String> names = named.get(i);
                List<ClassificationResult> answers = results.get(i);
                answers.sort(Comparator.comparingInt(r -> names.indexOf(r.getModel())));
                outcomes[i] =
                        new Outcome(requests.get(i), answers, null, null, shadowResults.get(i));
            }
        }
        return new Flush(List.of(outcomes), passes);
    }

    /**
     * A request's models on one encoder; {@code ngrams} holds, for its cascading models, the n-gram
     * probabilities their first stage computed, which the blend reuses.
     */
    private record Item(
            int index,
            ClassifyRequest request,
            List<LoadedModel> models,
            TokenizedInput tokens,
            Map<LoadedModel, float[]> ngrams) {}

    private record Tokenized(Item item, TokenizedInput input) {}

    /**
     * The versions that answer {@code request} for the models it names, in that order: each model's
     * serving version, or its canary where the canary's hash picks the request; then its shadow, if
     * it has one.
     */
    private static List<LoadedModel> answering(
            ClassifyRequest request,
            List<String> names,
            Map<String, LoadedModel> models,
            Map<String, LoadedTrials> trials) {
        if (trials.isEmpty()) {
            return names.stream().map(models::get).toList();
        }
        List<LoadedModel> answering = new ArrayList<>(names.size() + 1);
        for (String name : names) {
            LoadedTrials trial = trials.get(name);
            if (trial == null) {
                answering.add(models.get(name));
                continue;
            }
            boolean toCanary =
                    trial.canary() != null
                            && CanaryRouting.picks(name, request, trial.canaryPercent());
            answering.add(toCanary ? trial.canary() : models.get(name));
            if (trial.shadow() != null) {
                answering.add(trial.shadow());
            }
        }
        return answering;
    }

    private void runGroup(
            List<Item> group,
            List<List<ClassificationResult>> results,
            List<List<ClassificationResult>> shadowResults,
            Set<LoadedModel> shadows,
            List<Pass> passes,
            Clock clock) {
        LoadedModel first = group.get(0).models().get(0);
        List<Tokenized> inputs = new ArrayList<>(group.size());
        for (Item item : group) {
            TokenizedInput input =
                    item.tokens() != null ? item.tokens() : tokenize(first, item.request());
            inputs.add(new Tokenized(item, input));
        }
        inputs.sort(Comparator.comparingInt(t -> t.input().length()));
        int[] lengths = inputs.stream().mapToInt(t -> t.input().length()).toArray();
        int overhead = first.passCost().overheadTokens();
        for (int[] range : BatchPlanner.plan(lengths, maxBatchSize, maxBatchTokens, overhead)) {
            List<Tokenized> batch = inputs.subList(range[0], range[1]);
            BatchPasses.Done done =
                    BatchPasses.run(
                            first.encoder(),
                            batch.stream().map(Tokenized::input).toList(),
                            batch.stream().map(t -> t.item().models()).toList());
            boolean forShadowsOnly =
                    !shadows.isEmpty()
                            && batch.stream().allMatch(t -> shadows.containsAll(t.item().models()));
            for (Pass pass : done.passes()) {
                passes.add(forShadowsOnly ? pass.forShadows() : pass);
            }
            Instant now = clock.instant(); // after the passes: latency includes inference
            for (int b = 0; b < batch.size(); b++) {
                Item item = batch.get(b).item();
                ClassifyRequest request = item.request();
                for (LoadedModel model : item.models()) {
                    float[] p =
                            model.answer(
                                    done.probabilities(model, b),
                                    request.text,
                                    request.textB,
                                    item.ngrams().get(model));
                    (shadows.contains(model) ? shadowResults : results)
                            .get(item.index())
                            .add(result(request, model, p, now, Stage.ENCODER));
                }
            }
        }
    }

    /** Tokens of {@code request} as {@code model} reads them. */
    public static TokenizedInput tokenize(LoadedModel model, ClassifyRequest request) {
        return request.isPair()
                ? model.tokenizer().encodePair(request.text, request.textB)
                : model.tokenizer().encode(request.text);
    }

    /** Which stage of a version answered; the value of a result's {@code stage}. */
    public enum Stage {
        /** The encoder model, blended where the version blends. */
        ENCODER,
        /** A cascading version's n-gram model, alone: the encoder was not asked. */
        NGRAM;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    static ClassificationResult result(
            ClassifyRequest request, LoadedModel model, float[] p, Instant now, Stage stage) {
        List<String> labels = model.labels();
        int best = ClassificationHead.argMax(p);
        List<LabelProbability> probabilities = new ArrayList<>(p.length);
        for (int j = 0; j < p.length; j++) {
            probabilities.add(new LabelProbability(labels.get(j), p[j]));
        }
        return ClassificationResult.newBuilder()
                .setId(request.id)
                .setModel(model.name())
                .setModelVersion(model.version())
                .setEncoderHash(model.manifest().encoder().contentHash())
                .setLabel(labels.get(best))
                .setLabelIndex(best)
                .setProbability(p[best])
                .setProbabilities(probabilities)
                .setLatencyMillis(Math.max(0, now.toEpochMilli() - request.eventTimeMillis))
                .setAttributes(request.attributes)
                .setEventTime(Instant.ofEpochMilli(request.eventTimeMillis))
                .setStage(stage.id())
                .build();
    }
}
