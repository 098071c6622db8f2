package dev.sift.job.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sift.job.SiftPipeline;
import dev.sift.job.config.SiftOptions;
import dev.sift.job.infer.InferenceSettings;
import dev.sift.job.sink.OutRecord;
import dev.sift.model.bench.BenchEnvironment;
import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.encode.Encoder;
import dev.sift.model.encode.PaddedBatch;
import dev.sift.model.encode.PassCost;
import dev.sift.model.encode.SharedEncoders;
import dev.sift.model.encode.TensorFlowEncoder;
import dev.sift.model.head.ClassificationHead;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.registry.ModelDraft;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.model.testing.RealBert;
import dev.sift.model.tokenize.BertTokenizer;
import dev.sift.model.tokenize.TokenizedInput;
import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.ModelAction;
import dev.sift.schemas.RecordCodec;
import dev.sift.serving.request.RawRecord;
import dev.sift.serving.request.RequestLimits;
import dev.sift.serving.testing.TestModels;
import dev.sift.trainer.corpus.SpamAssassinCorpus;
import dev.sift.trainer.data.Example;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Two streams of real messages, each through three paths, measured in one run on BERT-base:
 *
 * <ol>
 *   <li>per-record inference padded to 128 in a Flink map, as DJL's Flink example does it;
 *   <li>Sift's job (decode, micro-batching inference operator) with the job's default settings; and
 *       the same job with a look-ahead of 1 pass (the buffer flushes every pass's worth, as before
 *       issue #10), plus any look-aheads named after the record count;
 *   <li>the raw encoder outside Flink: length-sorted batches of 32, the ceiling for (2).
 * </ol>
 *
 * The mixed stream alternates whole mails (subject and body, truncated at 128 tokens) and bare
 * subject lines, as a mail gateway would see them; the short stream is subject lines only. Every
 * path tokenizes inside its timing and fetches only {@code h_CLS}. Both Flink paths replay the
 * stream as fast as they take it (parallelism 1; TensorFlow already uses every core); throughput
 * counts only the records that finish after the warm-up point and times them from that point.
 * Latency is measured separately at a paced offered load both paths sustain, stamped when the
 * source is scheduled to emit and read at the end.
 *
 * <pre>
 * mvn -q -pl flink-job -am install -DskipTests &amp;&amp; mvn -q -pl flink-job exec:exec@bench
 * # or by hand: PipelineBenchmark [records] [more look-aheads to compare...]
 * </pre>
 */
public final class PipelineBenchmark {

    private static final int MAX_LEN = 128;

    /**
     * The raw encoder's batches: the most the job's batch size allows, ignoring its token budget.
     */
    private static final int RAW_BATCH = 32;

    /** Latency is measured at an offered load both paths sustain, paced and stamped per record. */
    private static final double LATENCY_RATE = 5;

    private static final int LATENCY_RECORDS = 120;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final RecordCodec<ClassificationResult> RESULTS =
            RecordCodec.of(ClassificationResult.class);

    private PipelineBenchmark() {}

    /** A named stream of texts. */
    record Stream(String name, List<String> texts) {}

    public static void main(String[] args) throws Exception {
        int records = args.length > 0 ? Integer.parseInt(args[0]) : 400;
        // Look-ahead 1 is the job before the look-ahead window: always compared with the default.
        List<Integer> lookAheads = new ArrayList<>(List.of(1));
        for (int i = 1; i < args.length; i++) {
            lookAheads.add(Integer.parseInt(args[i]));
        }
        List<Stream> streams = streams(records);
        Path registryDir = Files.createTempDirectory("sift-bench");
        EncoderBundle encoder = RealBert.bundle();
        ModelRegistry registry = RealBert.registryAt(registryDir);
        ModelBundle model = registry.publish(draft(encoder.contentHash()));
        registry.recordAnnouncement(
                model.name(),
                TestModels.encode(TestModels.announcement(model, ModelAction.ACTIVATE)));
        String reg = registryDir.toString();
        InferenceSettings settings = settings(reg);

        System.out.println("BERT-base, one head (cls pooling)");
        BenchEnvironment.print(System.out);
        System.out.printf(
                Locale.ROOT,
                "Sift job: defaults of InferenceSettings.builder() = maxBatchSize %d,"
                        + " maxBatchTokens %d, look-ahead %d passes, maxWait %d ms; Flink"
                        + " parallelism 1, buffer timeout %d ms; batch planner overhead measured"
                        + " when the encoder loads; rows 'look-ahead N' differ from (b) in that"
                        + " setting only%n",
                settings.maxBatchSize(),
                settings.maxBatchTokens(),
                settings.batchLookAhead(),
                settings.maxWaitMillis(),
                SiftOptions.BUFFER_TIMEOUT.defaultValue().toMillis());
        System.out.printf(
                Locale.ROOT,
                "per record: one pass per record padded to %d; raw encoder: length-sorted batches"
                        + " of %d, no token budget; all paths tokenize inside the timing%n",
                MAX_LEN,
                RAW_BATCH);
        System.out.printf(
                Locale.ROOT,
                "throughput: saturated, the first %d completions are warm-up; latency: the first"
                        + " %d records at %.0f/s, the first %d by send time left out; every path"
                        + " checked to return one result per record%n",
                WARM_UP,
                LATENCY_RECORDS,
                LATENCY_RATE,
                WARM_UP);
        System.out.println();

        for (Stream stream : streams) {
            List<String> texts = stream.texts();
            Raw raw = rawEncoder(encoder, texts);
            double perRecordRate = perRecordPadded(texts, reg, model, 0).rate;
            double siftRate = sift(texts, settings, 0).rate;
            List<String> paced = texts.subList(0, Math.min(texts.size(), LATENCY_RECORDS));
            Measured perRecord = perRecordPadded(paced, reg, model, LATENCY_RATE);
            Measured sift = sift(paced, settings, LATENCY_RATE);
            List<Measured> others = new ArrayList<>();
            for (int lookAhead : lookAheads) {
                InferenceSettings other = settings.toBuilder().batchLookAhead(lookAhead).build();
                double rate = sift(texts, other, 0).rate;
                Measured latency = sift(paced, other, LATENCY_RATE);
                others.add(new Measured(rate, latency.p50, latency.p99));
            }

            System.out.printf(
                    Locale.ROOT,
                    "### %s: %d records, %.1f tokens on average%n%n",
                    stream.name(),
                    texts.size(),
                    raw.meanTokens);
            System.out.println(
                    "| path | records/s (saturated) | p50 latency | p99 latency (at "
                            + (int) LATENCY_RATE
                            + "/s) |");
            System.out.println("|---|---:|---:|---:|");
            System.out.printf(
                    Locale.ROOT,
                    "| (a) per record, padded to 128 | %.1f | %d ms | %d ms |%n",
                    perRecordRate,
                    perRecord.p50,
                    perRecord.p99);
            System.out.printf(
                    Locale.ROOT,
                    "| (b) Sift job (defaults: look-ahead %d) | %.1f | %d ms | %d ms |%n",
                    settings.batchLookAhead(),
                    siftRate,
                    sift.p50,
                    sift.p99);
            for (int i = 0; i < lookAheads.size(); i++) {
                System.out.printf(
                        Locale.ROOT,
                        "| (b) Sift job, look-ahead %d%s | %.1f | %d ms | %d ms |%n",
                        lookAheads.get(i),
                        lookAheads.get(i) == 1 ? " (before #10)" : "",
                        others.get(i).rate,
                        others.get(i).p50,
                        others.get(i).p99);
            }
            System.out.printf(
                    Locale.ROOT,
                    "| raw encoder, sorted batches of %d | %.1f | | |%n",
                    RAW_BATCH,
                    raw.rate);
            System.out.printf(
                    Locale.ROOT,
                    "%n(b) / raw = %.2fx, (b) / (a) = %.1fx;",
                    siftRate / raw.rate,
                    siftRate / perRecordRate);
            for (int i = 0; i < lookAheads.size(); i++) {
                System.out.printf(
                        Locale.ROOT,
                        " look-ahead %d / raw = %.2fx;",
                        lookAheads.get(i),
                        others.get(i).rate / raw.rate);
            }
            System.out.printf(Locale.ROOT, " pass cost measured on load: %s%n%n", raw.passCost);
        }
    }

    /** The job's defaults: only where results go differs, which costs nothing. */
    private static InferenceSettings settings(String registry) {
        return InferenceSettings.builder()
                .registry(registry)
                .resultsTopic("results")
                .deadLetterTopic("dead-letters")
                .build();
    }

    /**
     * Completions before the warm-up point are left out: they queue behind start-up (the encoder
     * loads in the operator's open()), which the raw encoder's figure does not include either.
     */
    private static final int WARM_UP = 10;

    record Measured(double rate, long p50, long p99) {
        /**
         * From {@code {sent, done}} pairs: completions per second and latency percentiles. The
         * warm-up point is the time the {@code WARM_UP}-th record finished; only records that
         * finish strictly after it count, timed from it. Records of the batch that finished at that
         * point are left out with it, since their compute time lies before it.
         */
        static Measured of(List<long[]> sentAndDone, int sent) {
            // Flink's collect client may warn at shutdown that data "might be lost": check none
            // was.
            if (sentAndDone.size() != sent) {
                throw new IllegalStateException(
                        sentAndDone.size() + " results for " + sent + " records sent");
            }
            long[] done = sentAndDone.stream().mapToLong(e -> e[1]).sorted().toArray();
            long[] latencies =
                    sentAndDone.stream()
                            .sorted(Comparator.comparingLong(e -> e[0]))
                            .skip(WARM_UP)
                            .mapToLong(e -> e[1] - e[0])
                            .sorted()
                            .toArray();
            long warmUpPoint = done[WARM_UP - 1];
            long counted = Arrays.stream(done).filter(t -> t > warmUpPoint).count();
            if (counted == 0) {
                throw new IllegalStateException(
                        "Every record finished by the warm-up point; send more records");
            }
            double seconds = (done[done.length - 1] - warmUpPoint) / 1000.0;
            return new Measured(
                    counted / seconds,
                    latencies[latencies.length / 2],
                    latencies[(int) Math.ceil(latencies.length * 0.99) - 1]);
        }
    }

    /** The raw encoder's rate, the stream's mean token count, and the encoder's pass cost. */
    record Raw(double rate, double meanTokens, PassCost passCost) {}

    private static Raw rawEncoder(EncoderBundle bundle, List<String> texts) throws Exception {
        Set<Pooling> cls = EnumSet.of(Pooling.CLS);
        try (BertTokenizer tokenizer = BertTokenizer.load(bundle.tokenizerFile(), MAX_LEN);
                Encoder encoder = TensorFlowEncoder.load(bundle)) {
            PassCost passCost = PassCost.measure(encoder);
            encoder.encode(tokenizer.encodeAll(texts.subList(0, 8)), cls); // warm-up
            long start = System.nanoTime();
            List<TokenizedInput> inputs = new ArrayList<>(tokenizer.encodeAll(texts));
            inputs.sort(Comparator.comparingInt(TokenizedInput::length));
            for (int from = 0; from < inputs.size(); from += RAW_BATCH) {
                encoder.encode(
                        inputs.subList(from, Math.min(inputs.size(), from + RAW_BATCH)), cls);
            }
            double rate = inputs.size() / ((System.nanoTime() - start) / 1e9);
            double meanTokens =
                    inputs.stream().mapToInt(TokenizedInput::length).average().orElse(0);
            return new Raw(rate, meanTokens, passCost);
        }
    }

    static Measured perRecordPadded(
            List<String> texts, String registry, ModelBundle model, double rate) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        env.setBufferTimeout(SiftOptions.BUFFER_TIMEOUT.defaultValue().toMillis());
        List<long[]> out = new ArrayList<>();
        List<String> copy = List.copyOf(texts);
        env.fromSequence(0, copy.size() - 1)
                .map(new Pacer(rate))
                .map(sent -> new Stamped(sent[0], copy.get((int) sent[1])))
                .returns(Stamped.class)
                .map(new PerRecordClassifier(registry, model.name(), model.version()))
                .executeAndCollect()
                .forEachRemaining(out::add);
        return Measured.of(out, copy.size());
    }

    static Measured sift(List<String> texts, InferenceSettings settings, double rate)
            throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        env.setBufferTimeout(SiftOptions.BUFFER_TIMEOUT.defaultValue().toMillis());
        List<String> values = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            values.add(JSON.writeValueAsString(Map.of("id", "r" + i, "text", texts.get(i))));
        }
        // Stamped as the source emits them, as in the per-record path.
        DataStream<RawRecord> requests =
                env.fromSequence(0, values.size() - 1)
                        .map(new Pacer(rate))
                        .map(
                                sent ->
                                        new RawRecord(
                                                "bench",
                                                0,
                                                sent[1],
                                                sent[0],
                                                null,
                                                values.get((int) sent[1])
                                                        .getBytes(StandardCharsets.UTF_8)))
                        .returns(RawRecord.class);
        // No announcements: the version the registry records as announced serves throughout. (An
        // empty
        // collection is not a valid Flink source, hence the empty filter.)
        DataStream<byte[]> announcements =
                env.fromSequence(0, 0)
                        .filter(x -> false)
                        .map(x -> new byte[0])
                        .returns(PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);
        List<long[]> out = new ArrayList<>();
        SiftPipeline.build(requests, announcements, settings, RequestLimits.DEFAULTS)
                .filter(record -> record.topic.equals("results"))
                .map(PipelineBenchmark::emittedAndDone)
                .returns(TypeInformation.of(long[].class))
                .executeAndCollect()
                .forEachRemaining(out::add);
        return Measured.of(out, texts.size());
    }

    private static long[] emittedAndDone(OutRecord record) throws Exception {
        long done = System.currentTimeMillis();
        ClassificationResult result = RESULTS.decode(record.value);
        return new long[] {result.getEventTime().toEpochMilli(), done};
    }

    /**
     * The mixed stream (half whole mails, half subject lines) and the short stream (subject lines
     * only), from mails shuffled with a fixed seed.
     */
    static List<Stream> streams(int records) throws Exception {
        Path data = SpamAssassinCorpus.fetch(SpamAssassinCorpus.defaultCache());
        List<Example> mails =
                new ArrayList<>(
                        SpamAssassinCorpus.examples(data, SpamAssassinCorpus.GROUPS, Map.of())
                                .examples());
        Collections.shuffle(mails, new Random(3));
        List<String> mixed = new ArrayList<>();
        List<String> subjects = new ArrayList<>();
        for (int i = 0; mixed.size() < records || subjects.size() < records; i++) {
            Example mail = mails.get(i);
            String subject = mail.attributes().getOrDefault("subject", "");
            if (mixed.size() < records) {
                mixed.add(i % 2 == 0 || subject.isBlank() ? mail.text() : subject);
            }
            if (subjects.size() < records && !subject.isBlank()) {
                subjects.add(subject);
            }
        }
        return List.of(
                new Stream("Mixed stream (half whole mails, half subject lines)", mixed),
                new Stream("Short stream (mail subject lines only)", subjects));
    }

    private static ModelDraft draft(String encoderHash) {
        Random random = new Random(5);
        float[] w = new float[768 * 2];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (random.nextGaussian() * 0.1);
        }
        return ModelDraft.builder("bench", encoderHash)
                .pooling(Pooling.CLS)
                .maxSeqLen(MAX_LEN)
                .head(new ClassificationHead(w, new float[2], List.of("ham", "spam")))
                .build();
    }

    /**
     * Emits {@code {sendTime, index}}. Unpaced (rate 0) it stamps the current time; paced it waits
     * for each record's scheduled time and stamps that, so a slow consumer cannot hide its queue by
     * delaying the stamp (coordinated omission).
     *
     * <p>Paced, the first {@value #WARM_UP} records (left out of the latencies) go at once and the
     * schedule starts {@link #SETTLE_MILLIS} later: the job loads its model when the first record
     * arrives (BERT-base: hashing 420 MB, loading and calibrating it, seconds), and at 5 records/s
     * a schedule started at once would time the records sent during that load as if the model were
     * serving, measuring the job's start instead of its latency. Every path gets the same rule.
     */
    static final class Pacer extends RichMapFunction<Long, long[]> {
        static final long SETTLE_MILLIS = 15_000;

        private final double rate;
        private transient long start;

        Pacer(double rate) {
            this.rate = rate;
        }

        @Override
        public long[] map(Long index) throws InterruptedException {
            if (rate <= 0 || index < WARM_UP) {
                return new long[] {System.currentTimeMillis(), index};
            }
            if (start == 0) {
                start = System.currentTimeMillis() + SETTLE_MILLIS;
            }
            long scheduled = start + Math.round((index - WARM_UP) * 1000 / rate);
            long wait = scheduled - System.currentTimeMillis();
            if (wait > 0) {
                Thread.sleep(wait);
            }
            return new long[] {scheduled, index};
        }
    }

    /** A text with the time the source emitted it. A Flink POJO. */
    public static final class Stamped {
        public long emitted;
        public String text;

        public Stamped() {}

        Stamped(long emitted, String text) {
            this.emitted = emitted;
            this.text = text;
        }
    }

    /** The per-record baseline: one forward pass per record, always padded to 128. */
    static final class PerRecordClassifier extends RichMapFunction<Stamped, long[]> {
        private final String registry;
        private final String model;
        private final long version;
        private transient SharedEncoders.Lease lease;
        private transient BertTokenizer tokenizer;
        private transient ClassificationHead head;

        PerRecordClassifier(String registry, String model, long version) {
            this.registry = registry;
            this.model = model;
            this.version = version;
        }

        @Override
        public void open(OpenContext context) throws Exception {
            ModelRegistry models = ModelRegistry.at(Path.of(registry));
            ModelBundle bundle = models.open(model, version);
            EncoderBundle encoder = models.encoder(bundle.manifest().encoder().contentHash());
            lease = SharedEncoders.acquire(encoder);
            tokenizer = BertTokenizer.load(encoder.tokenizerFile(), MAX_LEN);
            head = bundle.head();
        }

        @Override
        public long[] map(Stamped stamped) {
            TokenizedInput input = tokenizer.encode(stamped.text);
            float[] h =
                    lease.encoder()
                            .encode(
                                    PaddedBatch.paddedTo(List.of(input), MAX_LEN),
                                    EnumSet.of(Pooling.CLS))
                            .vector(0, Pooling.CLS);
            int label = ClassificationHead.argMax(head.probabilities(h));
            return new long[] {stamped.emitted, System.currentTimeMillis(), label};
        }

        @Override
        public void close() {
            if (tokenizer != null) {
                tokenizer.close();
            }
            if (lease != null) {
                lease.close();
            }
        }
    }
}
