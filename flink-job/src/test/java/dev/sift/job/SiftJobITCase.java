package dev.sift.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sift.job.config.SiftOptions;
import dev.sift.job.sink.DeadLetters;
import dev.sift.job.sink.OutRecordSerializer;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.registry.ModelBundle;
import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.DeadLetter;
import dev.sift.schemas.ErrorCode;
import dev.sift.schemas.ModelAction;
import dev.sift.schemas.OutputFormat;
import dev.sift.schemas.OutputHeaders;
import dev.sift.schemas.RequestCodec;
import dev.sift.schemas.TextRequest;
import dev.sift.serving.request.RawRecord;
import dev.sift.serving.testing.TestModels;
import dev.sift.testing.kafka.KafkaTestCluster;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job end to end on a real Kafka broker and a Flink MiniCluster at parallelism 2, with the tiny
 * test encoder: every request comes out exactly once (read_committed) across a model swap, bad
 * records become dead letters, and three injected task failures, each after a completed checkpoint
 * and before the next, lose and duplicate nothing. The first run writes JSON with headers, the
 * second Avro; each reads back only the format it configured.
 */
class SiftJobITCase {

    @RegisterExtension
    static final MiniClusterExtension FLINK =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(2)
                            .build());

    @TempDir Path registryDir;

    @Test
    void classifiesEveryRequestOnceAcrossAModelSwapAndDeadLettersBadOnes() throws Exception {
        KafkaTestCluster kafka = KafkaTestCluster.shared();
        Topics topics = Topics.create(kafka);
        TestModels models = new TestModels(registryDir);
        models.publish("spam", 1, Pooling.CLS);
        Configuration config = config(kafka, topics, OutputFormat.JSON);

        JobClient job = start(config, null);
        try {
            kafka.send(topics.requests, requests(0, 100));
            kafka.send(
                    topics.requests,
                    List.of(
                            "not a request".getBytes(StandardCharsets.UTF_8),
                            "{\"id\":\"blank\",\"text\":\"   \"}".getBytes(StandardCharsets.UTF_8),
                            "{\"id\":\"x\",\"text\":\"hi\",\"models\":[\"nope\"]}"
                                    .getBytes(StandardCharsets.UTF_8)));
            List<ConsumerRecord<byte[], byte[]>> first =
                    kafka.readCommitted(topics.results, 100, Duration.ofSeconds(90));
            assertThat(first).hasSize(100);
            ConsumerRecord<byte[], byte[]> one = first.get(0);
            ClassificationResult decoded = OutputFormat.JSON.results().decode(one.value());
            assertThat(headers(one))
                    .containsEntry(OutputHeaders.MODEL, "spam")
                    .containsEntry(OutputHeaders.MODEL_VERSION, "1")
                    .containsEntry(OutputHeaders.REQUEST_ID, decoded.getId());

            ModelBundle v2 = models.publish("spam", 2, Pooling.MEAN);
            kafka.send(
                    topics.models,
                    List.of(TestModels.encode(TestModels.announcement(v2, ModelAction.ACTIVATE))));
            VersionProbe probe = new VersionProbe(kafka, topics.requests, topics.results);
            probe.await("spam", 2, Duration.ofSeconds(60));

            kafka.send(topics.requests, requests(100, 200));
            List<ClassificationResult> results =
                    readResults(kafka, config, topics.results, 200 + probe.sent());

            Map<String, Long> perId =
                    results.stream()
                            .filter(r -> r.getId().startsWith("r-"))
                            .collect(
                                    Collectors.groupingBy(
                                            ClassificationResult::getId, Collectors.counting()));
            assertThat(perId).hasSize(200).allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1));
            assertThat(
                            results.stream()
                                    .filter(r -> r.getId().equals("r-150"))
                                    .findFirst()
                                    .orElseThrow()
                                    .getModelVersion())
                    .isEqualTo(2L);

            var letters = kafka.readCommitted(topics.deadLetters, 3, Duration.ofSeconds(30));
            Map<ErrorCode, String> codes = new HashMap<>();
            for (ConsumerRecord<byte[], byte[]> letter : letters) {
                DeadLetter decodedLetter = OutputFormat.JSON.deadLetters().decode(letter.value());
                codes.put(
                        decodedLetter.getErrorCode(),
                        new String(decodedLetter.getValue().array(), StandardCharsets.UTF_8));
                assertThat(headers(letter))
                        .containsEntry(
                                OutputHeaders.ERROR_CODE, decodedLetter.getErrorCode().name());
            }
            assertThat(codes)
                    .containsEntry(ErrorCode.UNDECODABLE, "not a request")
                    .containsKey(ErrorCode.EMPTY_TEXT)
                    .containsKey(ErrorCode.UNKNOWN_MODEL);
        } finally {
            job.cancel().get();
        }
    }

    @Test
    void threeTaskFailuresEachAfterACompletedCheckpointLoseAndDuplicateNothing() throws Exception {
        KafkaTestCluster kafka = KafkaTestCluster.shared();
        Topics topics = Topics.create(kafka);
        new TestModels(registryDir).publish("spam", 1, Pooling.CLS);
        Configuration config = config(kafka, topics, OutputFormat.AVRO);
        FailAfterCheckpoints.INJECTED.clear();

        JobClient job = start(config, new FailAfterCheckpoints(3, 40));
        try {
            // Traffic keeps flowing while the job fails and restarts: each failure must find
            // records read after its checkpoint, classified, and not yet committed.
            int sent = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            int after = -1;
            while (System.nanoTime() < deadline && (after < 0 || sent < after + 100)) {
                kafka.send(topics.requests, requests(sent, sent + 10));
                sent += 10;
                if (after < 0 && FailAfterCheckpoints.INJECTED.size() >= 3) {
                    after = sent;
                }
                Thread.sleep(100);
            }
            assertThat(List.copyOf(FailAfterCheckpoints.INJECTED))
                    .as("checkpoints the injected failures followed")
                    .hasSize(3)
                    .isSorted()
                    .doesNotHaveDuplicates();

            readResults(kafka, config, topics.results, sent);
            // Then everything committed a little later, so a duplicate shows as one.
            List<ClassificationResult> results =
                    Results.read(
                            kafka,
                            topics.results,
                            OutputFormat.AVRO,
                            Integer.MAX_VALUE,
                            Duration.ofSeconds(5));
            Map<String, Long> perId =
                    results.stream()
                            .collect(
                                    Collectors.groupingBy(
                                            ClassificationResult::getId, Collectors.counting()));
            assertThat(perId).allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1));
            assertThat(perId).hasSize(sent);
        } finally {
            job.cancel().get();
        }
    }

    /**
     * Requests of 0.9 MB, just under the broker's 1 MiB, of each kind that used to make a record
     * the producer refuses (failing the task at the same offset on every restart): text over the
     * limit, attributes over the limit, a key of 0.9 MB on a request that is dead-lettered, and an
     * accepted request whose result grows past 1 MiB in JSON. With no restart allowed, the job
     * keeps running, and every request is answered or dead-lettered once.
     */
    @Test
    void requestsJustUnderTheBrokersLimitNeverStopTheJob() throws Exception {
        KafkaTestCluster kafka = KafkaTestCluster.shared();
        Topics topics = Topics.create(kafka);
        new TestModels(registryDir).publish("spam", 1, Pooling.CLS);
        // Attributes up to 500 KB pass the validator here, so a result can outgrow the producer.
        Configuration config =
                config(
                        kafka,
                        topics,
                        OutputFormat.JSON,
                        "--sift.requests.max-attributes-bytes=500000");
        RequestCodec codec = new RequestCodec();
        int nearLimit = 900_000;

        JobClient job = start(config, null, 0);
        try {
            kafka.send(topics.requests, requests(0, 20));
            kafka.send(
                    topics.requests,
                    null,
                    codec.encode(
                            TextRequest.newBuilder()
                                    .setId("long-text")
                                    .setText("x".repeat(nearLimit))
                                    .build()));
            kafka.send(
                    topics.requests,
                    null,
                    codec.encode(
                            TextRequest.newBuilder()
                                    .setId("long-attributes")
                                    .setText("hello")
                                    .setAttributes(Map.of("a", "y".repeat(nearLimit)))
                                    .build()));
            kafka.send(
                    topics.requests,
                    "k".repeat(nearLimit).getBytes(StandardCharsets.UTF_8),
                    codec.encode(
                            TextRequest.newBuilder()
                                    .setId("long-key")
                                    .setText("hello")
                                    .setModels(List.of("nope"))
                                    .build()));
            // 480 KB of terminal colour codes: accepted, but JSON escapes each ESC in 6 bytes.
            kafka.send(
                    topics.requests,
                    null,
                    codec.encode(
                            TextRequest.newBuilder()
                                    .setId("long-result")
                                    .setText("hello")
                                    .setAttributes(Map.of("log", "\u001b[0m".repeat(120_000)))
                                    .build()));
            kafka.send(topics.requests, requests(20, 40));

            List<ClassificationResult> results = readResults(kafka, config, topics.results, 40);
            assertThat(results)
                    .extracting(ClassificationResult::getId)
                    .doesNotHaveDuplicates()
                    .hasSize(40)
                    .allMatch(id -> id.startsWith("r-"));
            // Refused before decoding finished, a letter has no request id: named by its code.
            Map<String, DeadLetter> letters = new HashMap<>();
            for (ConsumerRecord<byte[], byte[]> record :
                    kafka.readCommitted(topics.deadLetters, 4, Duration.ofSeconds(60))) {
                assertThat(
                                OutRecordSerializer.sizeInBytes(
                                        new ProducerRecord<>(
                                                record.topic(), record.key(), record.value())))
                        .isLessThan(100_000);
                DeadLetter letter = OutputFormat.JSON.deadLetters().decode(record.value());
                letters.put(
                        letter.getRequestId() != null
                                ? letter.getRequestId()
                                : letter.getErrorCode().name(),
                        letter);
            }
            assertThat(letters.keySet())
                    .containsExactlyInAnyOrder(
                            "TEXT_TOO_LONG", "ATTRIBUTES_TOO_LARGE", "long-key", "long-result");
            DeadLetter longText = letters.get("TEXT_TOO_LONG");
            assertThat(longText.getValue().remaining()).isEqualTo(DeadLetters.MAX_VALUE_BYTES);
            assertThat(longText.getValueLength()).isGreaterThan((long) nearLimit);
            assertThat(letters.get("long-key").getErrorCode())
                    .isEqualTo(ErrorCode.RECORD_TOO_LARGE);
            assertThat(letters.get("long-key").getReason())
                    .contains("The UNKNOWN_MODEL dead letter for request long-key");
            assertThat(letters.get("long-result").getErrorCode())
                    .isEqualTo(ErrorCode.RECORD_TOO_LARGE);
            assertThat(letters.get("long-result").getReason())
                    .contains("The result of spam v1 for request long-result");
            assertThat(job.getJobStatus().get()).isEqualTo(JobStatus.RUNNING);
        } finally {
            job.cancel().get();
        }
    }

    private static JobClient start(Configuration config, MapFunction<RawRecord, RawRecord> tap)
            throws Exception {
        return start(config, tap, 5);
    }

    private static JobClient start(
            Configuration config, MapFunction<RawRecord, RawRecord> tap, int restartAttempts)
            throws Exception {
        Configuration restart = new Configuration();
        restart.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        restart.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, restartAttempts);
        restart.set(
                RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.getExecutionEnvironment(restart);
        env.setParallelism(2);
        env.enableCheckpointing(500, CheckpointingMode.EXACTLY_ONCE);
        DataStream<RawRecord> requests =
                env.fromSource(
                        SiftJob.requestSource(config),
                        WatermarkStrategy.noWatermarks(),
                        "requests");
        if (tap != null) {
            requests = requests.map(tap).name("injected-failures");
        }
        DataStream<byte[]> announcements =
                env.fromSource(
                                SiftJob.announcementSource(config),
                                WatermarkStrategy.noWatermarks(),
                                "models")
                        .setParallelism(1);
        SiftPipeline.build(
                        requests,
                        announcements,
                        SiftJob.inferenceSettings(config),
                        SiftJob.requestLimits(config))
                .sinkTo(SiftJob.sink(config));
        JobClient client = env.executeAsync("sift-it");
        while (client.getJobStatus().get() != JobStatus.RUNNING) {
            Thread.sleep(50);
        }
        return client;
    }

    private Configuration config(
            KafkaTestCluster kafka, Topics topics, OutputFormat format, String... more)
            throws Exception {
        List<String> args = new ArrayList<>(List.of(more));
        args.addAll(
                List.of(
                        "--sift.output.format=" + format,
                        "--sift.kafka.bootstrap-servers=" + kafka.bootstrapServers(),
                        "--sift.topics.requests=" + topics.requests,
                        "--sift.topics.results=" + topics.results,
                        "--sift.topics.dead-letters=" + topics.deadLetters,
                        "--sift.topics.shadow=" + kafka.newTopic("shadow", 1),
                        "--sift.topics.feedback=" + kafka.newTopic("feedback", 1),
                        "--sift.topics.models=" + topics.models,
                        "--sift.kafka.group-id=" + topics.requests,
                        "--sift.registry=" + registryDir,
                        "--sift.batch.max-size=8",
                        "--sift.batch.max-wait=20 ms"));
        return SiftJob.parseArgs(args.toArray(String[]::new));
    }

    private static List<byte[]> requests(int from, int to) {
        RequestCodec codec = new RequestCodec();
        List<byte[]> values = new ArrayList<>();
        for (int i = from; i < to; i++) {
            String text = (i % 2 == 0 ? "win free cash now " : "meeting report tomorrow ") + i;
            values.add(
                    i % 3 == 0
                            ? ("{\"id\":\"r-" + i + "\",\"text\":\"" + text + "\"}")
                                    .getBytes(StandardCharsets.UTF_8)
                            : codec.encode(
                                    TextRequest.newBuilder()
                                            .setId("r-" + i)
                                            .setText(text)
                                            .build()));
        }
        return values;
    }

    /** Results in the format the job was configured with, and only that format. */
    private static List<ClassificationResult> readResults(
            KafkaTestCluster kafka, Configuration config, String topic, int expected)
            throws Exception {
        return Results.read(
                kafka,
                topic,
                config.get(SiftOptions.OUTPUT_FORMAT),
                expected,
                Duration.ofSeconds(120));
    }

    private static Map<String, String> headers(ConsumerRecord<byte[], byte[]> record) {
        Map<String, String> headers = new HashMap<>();
        for (Header header : record.headers()) {
            headers.put(header.key(), new String(header.value(), StandardCharsets.UTF_8));
        }
        return headers;
    }

    private record Topics(String requests, String results, String deadLetters, String models) {
        static Topics create(KafkaTestCluster kafka) {
            return new Topics(
                    kafka.newTopic("requests", 2),
                    kafka.newTopic("results", 2),
                    kafka.newTopic("dead-letters", 1),
                    kafka.newTopic("models", 1));
        }
    }
}
