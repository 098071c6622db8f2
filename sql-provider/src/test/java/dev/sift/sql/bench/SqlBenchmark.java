package dev.sift.sql.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sift.job.SiftJob;
import dev.sift.job.SiftPipeline;
import dev.sift.job.infer.InferenceSettings;
import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.head.ClassificationHead;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.registry.ModelDraft;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.model.testing.RealBert;
import dev.sift.model.testing.TinyBertEncoder;
import dev.sift.schemas.ModelAction;
import dev.sift.serving.request.RawRecord;
import dev.sift.sql.JobAnswers;
import dev.sift.trainer.corpus.SpamAssassinCorpus;
import dev.sift.trainer.data.Example;
import dev.sift.trainer.publish.Announcer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;

/**
 * One stream of real messages (half whole mails, half subject lines, as in the job's {@code
 * PipelineBenchmark}) through Sift's DataStream job and through ML_PREDICT on the {@code sift}
 * provider, on the same model, batch size, token budget and wait, at parallelism 1 (TensorFlow
 * already uses every core). Rows per second count completions after the first ten (which queue
 * behind start-up); each path runs twice, alternating, and the probabilities of the two are
 * compared row by row.
 *
 * <pre>
 * mvn -q -pl sql-provider -am install -DskipTests &amp;&amp; mvn -q -pl sql-provider exec:exec@bench
 * mvn -q -pl sql-provider exec:exec@bench -Dsift.bench.args="400 tiny"
 * </pre>
 */
public final class SqlBenchmark {

    private static final int WARM_UP = 10;
    private static final int BATCH = 32;
    private static final int TOKENS = 4096;
    private static final int WAIT_MS = 50;
    private static final ObjectMapper JSON = new ObjectMapper();

    private SqlBenchmark() {}

    public static void main(String[] args) throws Exception {
        int records = args.length > 0 ? Integer.parseInt(args[0]) : 400;
        boolean bert = args.length < 2 || args[1].equals("bert");
        List<String> texts = stream(records);
        Path registryDir = Files.createTempDirectory("sift-sql-bench");
        ModelRegistry registry;
        EncoderBundle encoder;
        if (bert) {
            registry = RealBert.registryAt(registryDir);
            encoder = RealBert.bundle();
        } else {
            registry = ModelRegistry.at(registryDir);
            encoder = TinyBertEncoder.buildInto(registry.encodersDir());
        }
        ModelBundle model = registry.publish(draft(encoder));
        // The job serves activated versions; ML_PREDICT follows the registry's newest.
        Announcer.record(
                registry, Announcer.announcement(registry, model, ModelAction.ACTIVATE, null));

        System.out.printf(
                Locale.ROOT,
                "%d records (half whole mails, half subject lines), %s (max %d tokens), %d cores,"
                        + " batches of %d, %d tokens, %d ms%n%n",
                texts.size(),
                bert ? "BERT-base" : "the tiny test encoder",
                model.manifest().maxSeqLen(),
                Runtime.getRuntime().availableProcessors(),
                BATCH,
                TOKENS,
                WAIT_MS);
        System.out.println("| round | path | rows/s |");
        System.out.println("|---|---|---:|");
        Map<String, Map<String, Double>> job = null;
        Map<String, Map<String, Double>> sql = null;
        for (int round = 1; round <= 2; round++) {
            Run j = job(texts, registry.root().toString());
            System.out.printf(Locale.ROOT, "| %d | DataStream job | %.1f |%n", round, j.rate());
            Run s = sql(texts, registry.root().toString(), model.name());
            System.out.printf(Locale.ROOT, "| %d | ML_PREDICT | %.1f |%n", round, s.rate());
            job = j.probabilities();
            sql = s.probabilities();
        }
        double maxDiff = 0;
        for (var entry : job.entrySet()) {
            Map<String, Double> other = sql.get(entry.getKey());
            for (var p : entry.getValue().entrySet()) {
                maxDiff = Math.max(maxDiff, Math.abs(p.getValue() - other.get(p.getKey())));
            }
        }
        System.out.printf(
                Locale.ROOT,
                "%nrows compared: %d job, %d ML_PREDICT; largest probability difference %.2e%n",
                job.size(),
                sql.size(),
                maxDiff);
        System.exit(0); // Flink's and Kafka's non-daemon threads would keep the JVM up
    }

    /** Completions per second after warm-up, and each row's probabilities by request id. */
    record Run(double rate, Map<String, Map<String, Double>> probabilities) {
        static Run of(List<Long> doneMillis, Map<String, Map<String, Double>> probabilities) {
            List<Long> done = new ArrayList<>(doneMillis);
            Collections.sort(done);
            double seconds = Math.max(1, done.get(done.size() - 1) - done.get(WARM_UP)) / 1000.0;
            return new Run((done.size() - 1 - WARM_UP) / seconds, probabilities);
        }
    }

    private static List<String> requests(List<String> texts) throws Exception {
        List<String> values = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            values.add(JSON.writeValueAsString(Map.of("id", "r" + i, "text", texts.get(i))));
        }
        return values;
    }

    private static Run job(List<String> texts, String registry) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        List<String> values = requests(texts);
        DataStream<RawRecord> requests =
                env.fromSequence(0, values.size() - 1)
                        .map(
                                i ->
                                        new RawRecord(
                                                "bench",
                                                0,
                                                i,
                                                System.currentTimeMillis(),
                                                null,
                                                values.get(i.intValue())
                                                        .getBytes(StandardCharsets.UTF_8)))
                        .returns(RawRecord.class);
        // No announcements: the registry's recorded activation serves throughout. (An empty
        // collection is not a valid Flink source, hence the empty filter.)
        DataStream<byte[]> announcements =
                env.fromSequence(0, 0)
                        .filter(x -> false)
                        .map(x -> new byte[0])
                        .returns(PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);
        Configuration config =
                SiftJob.parseArgs(
                        "--sift.registry=" + registry,
                        "--sift.batch.max-size=" + BATCH,
                        "--sift.batch.max-tokens=" + TOKENS,
                        "--sift.batch.max-wait=" + WAIT_MS + " ms");
        InferenceSettings settings = SiftJob.inferenceSettings(config);
        String results = settings.resultsTopic();
        List<Long> done = new ArrayList<>();
        Map<String, Map<String, Double>> probabilities = new HashMap<>();
        try (CloseableIterator<Tuple2<Long, byte[]>> out =
                SiftPipeline.build(requests, announcements, settings, SiftJob.requestLimits(config))
                        .filter(record -> record.topic.equals(results))
                        .map(record -> Tuple2.of(System.currentTimeMillis(), record.value))
                        .returns(
                                new org.apache.flink.api.java.typeutils.TupleTypeInfo<>(
                                        TypeInformation.of(Long.class),
                                        PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO))
                        .executeAndCollect()) {
            while (out.hasNext()) {
                Tuple2<Long, byte[]> result = out.next();
                done.add(result.f0);
                var answer = JobAnswers.decode(result.f1);
                probabilities.put(answer.getKey(), answer.getValue().probabilities());
            }
        }
        return Run.of(done, probabilities);
    }

    private static Run sql(List<String> texts, String registry, String model) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        StreamTableEnvironment sql = StreamTableEnvironment.create(env);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            rows.add(Row.of("r" + i, texts.get(i)));
        }
        Table mails =
                sql.fromDataStream(
                        env.fromData(rows)
                                .returns(
                                        org.apache.flink.api.common.typeinfo.Types.ROW_NAMED(
                                                new String[] {"id", "text"},
                                                org.apache.flink.api.common.typeinfo.Types.STRING,
                                                org.apache.flink.api.common.typeinfo.Types
                                                        .STRING)));
        sql.createTemporaryView("mails", mails);
        sql.executeSql(
                "CREATE TEMPORARY MODEL bench INPUT (text STRING)"
                        + " OUTPUT (label STRING, probabilities MAP<STRING, DOUBLE>)"
                        + " WITH ('provider' = 'sift', 'registry' = '"
                        + registry
                        + "', 'model' = '"
                        + model
                        + "', 'batch.max-size' = '"
                        + BATCH
                        + "', 'batch.max-tokens' = '"
                        + TOKENS
                        + "', 'batch.max-wait' = '"
                        + WAIT_MS
                        + " ms')");
        List<Long> done = new ArrayList<>();
        Map<String, Map<String, Double>> probabilities = new HashMap<>();
        try (CloseableIterator<Row> out =
                sql.executeSql(
                                // At most this many rows reach the function at a time: two
                                // batches' worth, so one fills while the other runs.
                                "SELECT id, probabilities FROM ML_PREDICT(TABLE mails, MODEL bench,"
                                        + " DESCRIPTOR(text), MAP['max-concurrent-operations', '"
                                        + 2 * BATCH
                                        + "'])")
                        .collect()) {
            while (out.hasNext()) {
                Row row = out.next();
                done.add(System.currentTimeMillis());
                @SuppressWarnings("unchecked")
                Map<String, Double> p = (Map<String, Double>) row.getField("probabilities");
                probabilities.put((String) row.getField("id"), p);
            }
        }
        return Run.of(done, probabilities);
    }

    /** Half whole mails, half subject lines, shuffled with a fixed seed (as PipelineBenchmark). */
    private static List<String> stream(int records) throws Exception {
        Path data = SpamAssassinCorpus.fetch(SpamAssassinCorpus.defaultCache());
        List<Example> mails =
                new ArrayList<>(
                        SpamAssassinCorpus.examples(data, SpamAssassinCorpus.GROUPS, Map.of())
                                .examples());
        Collections.shuffle(mails, new Random(3));
        List<String> texts = new ArrayList<>();
        for (int i = 0; texts.size() < records; i++) {
            Example mail = mails.get(i);
            String subject = mail.attributes().getOrDefault("subject", "");
            texts.add(i % 2 == 0 || subject.isBlank() ? mail.text() : subject);
        }
        return texts;
    }

    private static ModelDraft draft(EncoderBundle encoder) {
        int d = encoder.manifest().hiddenSize();
        Random random = new Random(5);
        float[] w = new float[d * 2];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (random.nextGaussian() * 0.1);
        }
        return ModelDraft.builder("bench", encoder.contentHash())
                .pooling(Pooling.CLS)
                .maxSeqLen(Math.min(128, encoder.manifest().maxSeqLen()))
                .head(new ClassificationHead(w, new float[2], List.of("ham", "spam")))
                .build();
    }
}
