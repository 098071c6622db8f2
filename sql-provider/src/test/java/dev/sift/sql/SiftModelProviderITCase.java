package dev.sift.sql;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.registry.ModelBundle;
import dev.sift.schemas.ModelAction;
import dev.sift.sql.JobAnswers.Answer;
import dev.sift.testing.kafka.KafkaTestCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.api.ModelDescriptor;
import org.apache.flink.table.api.Schema;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.types.ColumnList;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * ML_PREDICT with {@code 'provider' = 'sift'} as a SQL user runs it: a Kafka table (Flink's Kafka
 * SQL connector, JSON) on a real broker, a MiniCluster at parallelism 2, the tiny test encoder.
 * Every row gets the probabilities Sift's DataStream job gives the same request from the same topic
 * (within 1e-5), and a version published while the query runs takes over.
 */
class SiftModelProviderITCase {

    @RegisterExtension
    static final MiniClusterExtension FLINK =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(2)
                            .build());

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> WORDS =
            List.of(
                    "free",
                    "win",
                    "cash",
                    "prize",
                    "now",
                    "meeting",
                    "tomorrow",
                    "report",
                    "project",
                    "thanks",
                    "please",
                    "hello",
                    "world",
                    "click",
                    "offer",
                    "the");

    @TempDir Path registryDir;

    private final ExecutorService reader = Executors.newSingleThreadExecutor();
    private final KafkaTestCluster kafka = KafkaTestCluster.shared();

    @AfterEach
    void stopReader() {
        reader.shutdownNow();
    }

    @Test
    void classifiesAKafkaTableLikeTheJobAndFollowsANewVersion() throws Exception {
        TinyModels models = new TinyModels(registryDir);
        ModelBundle v1 = models.publish("spam", 1, Pooling.CLS);
        String requests = kafka.newTopic("requests", 2);
        kafka.send(requests, texts("a", 0, 30));
        Map<String, Answer> jobV1 = JobResults.run(kafka, requests, 30, v1);
        assertThat(jobV1).hasSize(30);

        StreamTableEnvironment sql = sql();
        sql.executeSql(kafkaTable("requests", requests, "id STRING, text STRING", false));
        sql.executeSql(
                "CREATE MODEL spam INPUT (text STRING)"
                        + " OUTPUT (label STRING, score DOUBLE, probabilities MAP<STRING, DOUBLE>,"
                        + " model_version BIGINT)"
                        + " WITH ('provider' = 'sift', 'registry' = '"
                        + registryDir
                        + "', 'model' = 'spam', 'version' = 'latest',"
                        + " 'version.refresh-interval' = '200 ms', 'batch.max-size' = '8',"
                        + " 'batch.max-wait' = '20 ms')");
        TableResult query =
                sql.executeSql(
                        "SELECT id, label, score, probabilities, model_version"
                                + " FROM ML_PREDICT(TABLE requests, MODEL spam, DESCRIPTOR(text))");
        List<Row> rows = new ArrayList<>();
        int probes = 0;
        ModelBundle v2;
        try (CloseableIterator<Row> it = query.collect()) {
            rows.addAll(take(it, 30));
            assertThat(rows).allSatisfy(row -> assertThat(version(row)).isEqualTo(1L));

            v2 = models.publish("spam", 2, Pooling.MEAN);
            // Probe one request at a time until v2 answers; then give the other subtask a few
            // refresh intervals to switch as well.
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (true) {
                kafka.send(requests, texts("p", probes, probes + 1));
                probes++;
                Row probe = take(it, 1).get(0);
                rows.add(probe);
                if (version(probe) == 2L) {
                    break;
                }
                assertThat(System.nanoTime()).as("v2 serves within 60 s").isLessThan(deadline);
                Thread.sleep(100);
            }
            Thread.sleep(1_500);
            kafka.send(requests, texts("b", 0, 30));
            List<Row> after = take(it, 30);
            assertThat(after).allSatisfy(row -> assertThat(version(row)).isEqualTo(2L));
            rows.addAll(after);
        }

        Map<String, Answer> jobV2 = JobResults.run(kafka, requests, 60 + probes, v2);
        int compared = 0;
        for (Row row : rows) {
            String id = (String) row.getField("id");
            Answer expected = (version(row) == 1L ? jobV1 : jobV2).get(id);
            if (expected == null) {
                continue; // a probe answered by v1: sent after the v1 job's run
            }
            assertSameAnswer(row, expected);
            compared++;
        }
        assertThat(compared).isGreaterThanOrEqualTo(61);
    }

    @Test
    void classifiesSentencePairsWithAPinnedVersion() throws Exception {
        TinyModels models = new TinyModels(registryDir);
        ModelBundle v1 = models.publish("nli", 1, Pooling.POOLER);
        String pairs = kafka.newTopic("pairs", 1);
        List<byte[]> values = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            values.add(
                    JSON.writeValueAsBytes(
                            Map.of(
                                    "id", "q-" + i,
                                    "textA", sentence(i, 3 + i),
                                    "textB", sentence(i + 7, 2 + (i * 5) % 11))));
        }
        kafka.send(pairs, values);
        Map<String, Answer> jobV1 = JobResults.run(kafka, pairs, 12, v1);
        models.publish("nli", 2, Pooling.CLS); // newer, but the model below pins version 1

        StreamTableEnvironment sql = sql();
        sql.executeSql(kafkaTable("pairs", pairs, "id STRING, textA STRING, textB STRING", true));
        sql.executeSql(
                "CREATE MODEL nli INPUT (premise STRING, hypothesis STRING)"
                        + " OUTPUT (model_version BIGINT, label STRING, probabilities"
                        + " MAP<STRING, DOUBLE>, score DOUBLE)"
                        + " WITH ('provider' = 'sift', 'registry' = '"
                        + registryDir
                        + "', 'model' = 'nli', 'version' = '1')");
        List<Row> rows = new ArrayList<>();
        try (CloseableIterator<Row> it =
                sql.executeSql(
                                "SELECT * FROM ML_PREDICT(TABLE pairs, MODEL nli,"
                                        + " DESCRIPTOR(textA, textB))")
                        .collect()) {
            it.forEachRemaining(rows::add); // the table is bounded: the query ends
        }
        assertThat(rows).hasSize(12);
        for (Row row : rows) {
            assertThat(version(row)).isEqualTo(1L);
            assertSameAnswer(row, jobV1.get((String) row.getField("id")));
        }
    }

    @Test
    void predictsThroughTheTableApiWithTypedOptions() throws Exception {
        TinyModels models = new TinyModels(registryDir);
        models.announce(models.publish("spam", 1, Pooling.MEAN), ModelAction.ACTIVATE, null);
        StreamTableEnvironment tables = sql();
        tables.createTemporaryModel(
                "spam",
                ModelDescriptor.forProvider(SiftModelProviderFactory.IDENTIFIER)
                        .inputSchema(Schema.newBuilder().column("text", DataTypes.STRING()).build())
                        .outputSchema(
                                Schema.newBuilder()
                                        .column("label", DataTypes.STRING())
                                        .column("score", DataTypes.DOUBLE())
                                        .column(
                                                "probabilities",
                                                DataTypes.MAP(
                                                        DataTypes.STRING(), DataTypes.DOUBLE()))
                                        .column("model_version", DataTypes.BIGINT())
                                        .build())
                        .option(SiftModelOptions.REGISTRY, registryDir.toString())
                        .option(SiftModelOptions.MODEL, "spam")
                        .option(SiftModelOptions.BATCH_MAX_SIZE, 4)
                        .option(SiftModelOptions.MAX_TEXT_BYTES, 200)
                        .build());
        Table mails =
                tables.fromValues(
                        DataTypes.ROW(
                                DataTypes.FIELD("id", DataTypes.STRING()),
                                DataTypes.FIELD("text", DataTypes.STRING())),
                        Row.of("m-1", "win free cash now"),
                        Row.of("m-2", "the project meeting is tomorrow"),
                        Row.of("m-3", "hello"),
                        Row.of("m-4", "click this offer for a cheap prize please"),
                        Row.of("m-5", "thanks for the report"),
                        // Over max-text-bytes: no prediction, as the job dead-letters it.
                        Row.of("m-6", "x".repeat(201)));
        List<Row> rows = new ArrayList<>();
        try (CloseableIterator<Row> it =
                tables.fromModel("spam")
                        .predict(mails, ColumnList.of("text"))
                        .execute()
                        .collect()) {
            it.forEachRemaining(rows::add);
        }
        assertThat(rows).hasSize(5);
        for (Row row : rows) {
            @SuppressWarnings("unchecked")
            Map<String, Double> p = (Map<String, Double>) row.getField("probabilities");
            var best = p.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow();
            assertThat(p.values().stream().mapToDouble(Double::doubleValue).sum())
                    .isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
            assertThat(row.getField("label")).isEqualTo(best.getKey());
            assertThat((Double) row.getField("score")).isEqualTo(best.getValue());
            assertThat(version(row)).isEqualTo(1L);
        }
    }

    @Test
    void aBatchRunsOnceEveryRowFlinkLetsInWaits() throws Exception {
        TinyModels models = new TinyModels(registryDir);
        models.announce(models.publish("spam", 1, Pooling.CLS), ModelAction.ACTIVATE, null);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        StreamTableEnvironment tables = StreamTableEnvironment.create(env);
        // Flink's default 'max-concurrent-operations' (10) is below batch.max-size: batches of
        // 10 must run at once rather than wait 30 s for rows that cannot come.
        tables.executeSql(
                "CREATE MODEL spam INPUT (text STRING) OUTPUT (label STRING)"
                        + " WITH ('provider' = 'sift', 'registry' = '"
                        + registryDir
                        + "', 'model' = 'spam', 'batch.max-size' = '32',"
                        + " 'batch.max-wait' = '30 s')");
        StringBuilder values = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            values.append(i == 0 ? "" : ", ").append("('").append(sentence(i, 1 + i)).append("')");
        }
        tables.executeSql(
                "CREATE TEMPORARY VIEW mails AS SELECT * FROM (VALUES " + values + ") AS t(text)");
        long start = System.nanoTime();
        List<Row> rows = new ArrayList<>();
        try (CloseableIterator<Row> it =
                tables.executeSql(
                                "SELECT label FROM ML_PREDICT(TABLE mails, MODEL spam,"
                                        + " DESCRIPTOR(text))")
                        .collect()) {
            it.forEachRemaining(rows::add);
        }
        assertThat(rows).hasSize(20);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20));
    }

    private static StreamTableEnvironment sql() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        StreamTableEnvironment sql = StreamTableEnvironment.create(env);
        // ML_PREDICT hands the function this many rows at a time; at least a batch's worth.
        sql.getConfig().set("table.exec.async-ml-predict.max-concurrent-operations", "16");
        return sql;
    }

    private String kafkaTable(String name, String topic, String columns, boolean bounded) {
        return "CREATE TABLE "
                + name
                + " ("
                + columns
                + ") WITH ('connector' = 'kafka', 'topic' = '"
                + topic
                + "', 'properties.bootstrap.servers' = '"
                + kafka.bootstrapServers()
                + "', 'properties.group.id' = 'sql-"
                + UUID.randomUUID()
                + "', 'scan.startup.mode' = 'earliest-offset'"
                + (bounded ? ", 'scan.bounded.mode' = 'latest-offset'" : "")
                + ", 'format' = 'json')";
    }

    private static void assertSameAnswer(Row row, Answer expected) {
        String id = (String) row.getField("id");
        assertThat(expected).as("the job's answer for %s", id).isNotNull();
        assertThat(version(row)).as(id).isEqualTo(expected.version());
        assertThat(row.getField("label")).as(id).isEqualTo(expected.label());
        @SuppressWarnings("unchecked")
        Map<String, Double> p = (Map<String, Double>) row.getField("probabilities");
        assertThat(p.keySet()).as(id).isEqualTo(expected.probabilities().keySet());
        expected.probabilities()
                .forEach(
                        (label, q) ->
                                assertThat(p.get(label))
                                        .as("%s %s", id, label)
                                        .isCloseTo(q, org.assertj.core.data.Offset.offset(1e-5)));
        assertThat((Double) row.getField("score"))
                .as(id)
                .isCloseTo(p.get(expected.label()), org.assertj.core.data.Offset.offset(1e-9));
    }

    private static long version(Row row) {
        return (Long) row.getField("model_version");
    }

    /** The next {@code n} rows, or a failure after 60 s. */
    private List<Row> take(CloseableIterator<Row> it, int n) throws Exception {
        return reader.submit(
                        () -> {
                            List<Row> rows = new ArrayList<>();
                            while (rows.size() < n) {
                                rows.add(it.next());
                            }
                            return rows;
                        })
                .get(60, TimeUnit.SECONDS);
    }

    /** JSON requests {@code prefix-from} .. {@code prefix-(to-1)} of 1 to 40 words. */
    private static List<byte[]> texts(String prefix, int from, int to) throws Exception {
        List<byte[]> values = new ArrayList<>();
        for (int i = from; i < to; i++) {
            Map<String, String> request = new HashMap<>();
            request.put("id", prefix + "-" + i);
            request.put("text", sentence(i * 7 + prefix.length(), 1 + (i * 13) % 40));
            values.add(JSON.writeValueAsBytes(request));
        }
        return values;
    }

    private static String sentence(int seed, int words) {
        StringBuilder text = new StringBuilder();
        for (int w = 0; w < words; w++) {
            text.append(w == 0 ? "" : " ").append(WORDS.get((seed + w * w) % WORDS.size()));
        }
        return text.toString();
    }
}
