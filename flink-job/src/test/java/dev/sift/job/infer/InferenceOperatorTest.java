package dev.sift.job.infer;

import static dev.sift.job.infer.OperatorHarnesses.awaitLoads;
import static dev.sift.job.infer.OperatorHarnesses.operator;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.sift.job.models.ActiveVersion;
import dev.sift.job.sink.OutRecord;
import dev.sift.model.bundle.ConfidenceProfile;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.ngram.NgramClassifier;
import dev.sift.model.ngram.TestNgrams;
import dev.sift.model.registry.ModelBundle;
import dev.sift.schemas.AnnouncementSignatures;
import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.DeadLetter;
import dev.sift.schemas.ErrorCode;
import dev.sift.schemas.ModelAction;
import dev.sift.schemas.ModelAnnouncement;
import dev.sift.schemas.OutputFormat;
import dev.sift.schemas.OutputHeaders;
import dev.sift.schemas.RecordCodec;
import dev.sift.serving.monitor.DriftWindow;
import dev.sift.serving.request.ClassifyRequest;
import dev.sift.serving.testing.TestModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class InferenceOperatorTest {

    private static final RecordCodec<ClassificationResult> RESULTS =
            RecordCodec.of(ClassificationResult.class);

    @TempDir Path dir;
    private TestModels models;
    private ModelBundle spamV1;
    @RegisterExtension final OperatorHarnesses harnesses = new OperatorHarnesses();

    @BeforeEach
    void publish() throws Exception {
        models = new TestModels(dir);
        spamV1 = models.publish("spam", 1, Pooling.CLS);
    }

    @Test
    void flushesWhenTheBatchIsFull() throws Exception {
        var harness = open(settings(3, 10_000, 1_000), null);

        harness.processElement1(request("a", "free cash now"));
        harness.processElement1(request("b", "meeting tomorrow"));
        assertThat(harness.extractOutputValues()).isEmpty();
        harness.processElement1(request("c", "win a prize"));

        assertThat(ids(harness)).containsExactly("a", "b", "c");
    }

    @Test
    void flushesWhenTheTokenBudgetIsReached() throws Exception {
        // [CLS] the report is good [SEP] = 6 tokens: the second request crosses 10.
        var harness = open(settings(100, 10, 1_000), null);

        harness.processElement1(request("a", "the report is good"));
        assertThat(harness.extractOutputValues()).isEmpty();
        harness.processElement1(request("b", "the report is good"));

        assertThat(ids(harness)).containsExactly("a", "b");
    }

    @Test
    void flushesAtTheDeadline() throws Exception {
        var harness = open(settings(100, 10_000, 50), null);
        harness.setProcessingTime(1_000);

        harness.processElement1(request("a", "hello"));
        harness.setProcessingTime(1_049);
        assertThat(harness.extractOutputValues()).isEmpty();
        harness.setProcessingTime(1_050);

        assertThat(ids(harness)).containsExactly("a");
    }

    @Test
    void flushesBeforeEveryCheckpointBarrier() throws Exception {
        var harness = open(settings(100, 10_000, 60_000), null);

        harness.processElement1(request("a", "hello"));
        harness.processElement1(request("b", "good day"));
        harness.prepareSnapshotPreBarrier(1);

        assertThat(ids(harness)).containsExactly("a", "b");
    }

    @Test
    void emitsInArrivalOrderWhateverTheLengths() throws Exception {
        var harness = open(settings(5, 10_000, 1_000), null);
        String[] texts = {
            "the project report for the meeting tomorrow is good thanks",
            "hi",
            "buy cheap",
            "please click now to win free money and a great prize today",
            "ok"
        };
        for (int i = 0; i < texts.length; i++) {
            harness.processElement1(request("r" + i, texts[i]));
        }

        assertThat(ids(harness)).containsExactly("r0", "r1", "r2", "r3", "r4");
    }

    @Test
    void swapsToAnAnnouncedVersionAndRollsBack() throws Exception {
        var harness = open(settings(1, 10_000, 1_000), null);
        ModelBundle v2 = models.publish("spam", 2, Pooling.MEAN);

        harness.processElement2(announce(v2, ModelAction.ACTIVATE));
        awaitLoads(harness);
        harness.processElement1(request("a", "free cash"));
        harness.processElement2(announce(spamV1, ModelAction.ACTIVATE)); // stale: ignored
        awaitLoads(harness);
        harness.processElement1(request("b", "free cash"));
        harness.processElement2(announce(spamV1, ModelAction.ROLL_BACK));
        awaitLoads(harness);
        harness.processElement1(request("c", "free cash"));

        assertThat(results(harness))
                .extracting(ClassificationResult::getModelVersion)
                .containsExactly(2L, 2L, 1L);
    }

    @Test
    void refusesATamperedBundleAndKeepsServing() throws Exception {
        var harness = open(settings(1, 10_000, 1_000), null);
        ModelBundle v2 = models.publish("spam", 2, Pooling.CLS);
        Path head = v2.dir().resolve("head.bin");
        byte[] bytes = Files.readAllBytes(head);
        bytes[100] ^= 1;
        Files.write(head, bytes);

        harness.processElement2(announce(v2, ModelAction.ACTIVATE));
        awaitLoads(harness);
        harness.processElement1(request("a", "free cash"));

        assertThat(results(harness))
                .singleElement()
                .extracting(ClassificationResult::getModelVersion)
                .isEqualTo(1L);
        assertThat(servingVersions(harness)).containsEntry("spam", 1L);
        assertThat(acceptedVersions(harness))
                .as("recorded, as every subtask records it; loading it failed here")
                .containsEntry("spam", 2L);
        assertThat(operator(harness).models().servingBehind("spam")).isTrue();
    }

    @Test
    void aLoadUnderWayKeepsOnePollPendingHoweverManyAnnouncementsArrive() throws Exception {
        var harness = open(settings(1, 10_000, 1_000), null);
        ModelBundle v2 = models.publish("spam", 2, Pooling.CLS);
        Path head = v2.dir().resolve("head.bin");
        byte[] bytes = Files.readAllBytes(head);
        bytes[100] ^= 1;
        Files.write(head, bytes);
        StreamRecord<byte[]> activateV2 = announce(v2, ModelAction.ACTIVATE);

        harness.processElement2(activateV2);
        awaitLoads(harness); // failed: a retry now waits a second
        for (int i = 0; i < 3; i++) {
            harness.processElement2(activateV2); // the same again, ignored
        }

        assertThat(operator(harness).models().loading()).isTrue();
        assertThat(harness.getProcessingTimeService().getNumActiveTimers()).isEqualTo(1);
    }

    /**
     * A verification that fails on one subtask only (the bundle changes between the two reads, as a
     * registry that fails one read would): both record the same state, the one that failed serves
     * the version before until its retry loads the announced one.
     */
    @Test
    void everySubtaskRecordsTheSameStateWhenVerificationFailsOnOne() throws Exception {
        InferenceSettings settings = settings(1, 10_000, 1_000);
        var first = harnesses.create(settings, 2, 0);
        var second = harnesses.create(settings, 2, 1);
        first.open();
        second.open();
        ModelBundle v2 = models.publish("spam", 2, Pooling.CLS);
        StreamRecord<byte[]> activateV2 = announce(v2, ModelAction.ACTIVATE);
        Path head = v2.dir().resolve("head.bin");
        byte[] genuine = Files.readAllBytes(head);

        first.processElement2(activateV2);
        awaitLoads(first);
        byte[] changed = genuine.clone();
        changed[100] ^= 1;
        Files.write(head, changed);
        second.processElement2(activateV2);
        awaitLoads(second);

        assertThat(broadcastState(first)).isEqualTo(broadcastState(second));
        assertThat(broadcastState(second).get("spam").version).isEqualTo(2L);
        assertThat(servingVersions(first)).containsEntry("spam", 2L);
        assertThat(servingVersions(second)).containsEntry("spam", 1L);

        Files.write(head, genuine);
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (servingVersions(second).get("spam") != 2L) {
            assertThat(System.nanoTime()).as("the retry loads v2").isLessThan(deadline);
            Thread.sleep(50);
            operator(second).models().applyFinishedLoads();
        }
        assertThat(operator(second).models().servingBehind("spam")).isFalse();
    }

    /**
     * After a failover, a recorded version that no longer loads does not leave the model without an
     * answer: the version accepted before it serves, and the model reads as behind.
     */
    @Test
    void aRestoredVersionThatDoesNotLoadLeavesTheOneBeforeServing() throws Exception {
        var harness = open(settings(1, 10_000, 1_000), null);
        ModelBundle v2 = models.publish("spam", 2, Pooling.CLS);
        harness.processElement2(announce(v2, ModelAction.ACTIVATE));
        awaitLoads(harness);
        OperatorSubtaskState snapshot = harness.snapshot(1, 1);
        Path head = v2.dir().resolve("head.bin");
        byte[] bytes = Files.readAllBytes(head);
        bytes[100] ^= 1;
        Files.write(head, bytes);

        var restored = restoredFrom(snapshot);

        assertThat(versionAnswering(restored)).isEqualTo(1L);
        assertThat(acceptedVersions(restored)).containsEntry("spam", 2L);
        assertThat(operator(restored).models().servingBehind("spam")).isTrue();
    }

    @Test
    void requiresSignaturesWhenAKeyIsConfigured() throws Exception {
        var keys = AnnouncementSignatures.generateKeyPair();
        String pem = pem(keys.getPublic().getEncoded());
        var harness = open(settings(1, 10_000, 1_000), pem);
        ModelBundle v2 = models.publish("spam", 2, Pooling.CLS);
        ModelBundle v3 = models.publish("spam", 3, Pooling.CLS);

        assertThat(servingVersions(harness)).as("v1's recorded announcement is unsigned").isEmpty();

        harness.processElement2(announce(v3, ModelAction.ACTIVATE)); // unsigned: refused
        awaitLoads(harness);
        assertThat(servingVersions(harness)).isEmpty();
        assertThat(acceptedVersions(harness)).isEmpty();

        harness.processElement2(
                new StreamRecord<>(
                        TestModels.encode(
                                AnnouncementSignatures.sign(
                                        TestModels.announcement(v2, ModelAction.ACTIVATE),
                                        keys.getPrivate()))));
        awaitLoads(harness);

        assertThat(servingVersions(harness)).containsEntry("spam", 2L);
    }

    @Test
    void deadLettersRequestsForUnknownOrRetiredModels() throws Exception {
        var harness = open(settings(1, 10_000, 1_000), null);

        harness.processElement1(request("a", "hello", "sentiment"));
        harness.processElement2(announce(spamV1, ModelAction.RETIRE));
        harness.processElement1(request("b", "hello", "spam"));

        List<OutRecord> out = harness.extractOutputValues();
        assertThat(out).extracting(r -> r.topic).containsOnly("dead-letters");
        var first = deadLetter(out.get(0).value);
        assertThat(first.getErrorCode()).isEqualTo(ErrorCode.UNKNOWN_MODEL);
        assertThat(first.getReason()).contains("names [sentiment]");
        assertThat(first.getRequestId()).isEqualTo("a");
        assertThat(first.getKey().array()).isEqualTo("key-a".getBytes(StandardCharsets.UTF_8));
        assertThat(first.getValue().array()).isEqualTo("hello".getBytes(StandardCharsets.UTF_8));
        assertThat(deadLetter(out.get(1).value).getErrorCode()).isEqualTo(ErrorCode.UNKNOWN_MODEL);
    }

    @Test
    void eachVersionsDriftGaugesHoldItsAnswersToItsTestSetAndCountItsTokens() throws Exception {
        List<String> texts =
                List.of("free cash now", "meeting moved to thursday", "win a prize ☃ ☃", "hello");
        var first = open(settings(1, 10_000, 1_000), null);
        List<float[]> answers = new ArrayList<>();
        for (String text : texts) {
            first.processElement1(request("x", text));
        }
        for (ClassificationResult result : results(first)) {
            answers.add(
                    new float[] {
                        result.getProbabilities().get(0).getProbability(),
                        result.getProbabilities().get(1).getProbability()
                    });
        }
        // v2 answers as v1 (same head) and says its test set looked exactly like these answers;
        // v3 likewise, but its test set's answers fell only where these do not.
        models.publishWithProfile(
                "spam", 1, Pooling.CLS, ConfidenceProfile.of(answers.toArray(float[][]::new)));
        var alike = open(settings(1, 10_000, 1_000), null);
        texts.forEach(text -> process(alike, text));
        long[] answered = ConfidenceProfile.of(answers.toArray(float[][]::new)).counts();
        long[] elsewhere = new long[ConfidenceProfile.BINS];
        for (int bin = 0; bin < elsewhere.length; bin++) {
            elsewhere[bin] = answered[bin] == 0 ? 100 : 0; // only where these answers never fell
        }
        models.publishWithProfile("spam", 1, Pooling.CLS, new ConfidenceProfile(2, elsewhere));
        var unlike = open(settings(1, 10_000, 1_000), null);
        texts.forEach(text -> process(unlike, text));

        DriftWindow alikeDrift = operator(alike).metrics().drift("spam", 2);
        DriftWindow unlikeDrift = operator(unlike).metrics().drift("spam", 3);
        assertThat(alikeDrift.size()).isEqualTo(texts.size());
        assertThat(alikeDrift.stabilityIndex()).isLessThan(1e-9);
        assertThat(unlikeDrift.stabilityIndex()).isGreaterThan(1);

        var tokenizer = operator(alike).models().serving().get("spam").tokenizer();
        double tokens = 0;
        double unknown = 0;
        for (String text : texts) {
            var ids = tokenizer.encode(text).ids();
            tokens += ids.length;
            for (int id : ids) {
                unknown += id == tokenizer.unknownTokenId() ? 1 : 0;
            }
        }
        assertThat(unknown).isPositive(); // the snowmen are outside the vocabulary
        assertThat(alikeDrift.meanTokens()).isCloseTo(tokens / texts.size(), within(1e-9));
        assertThat(alikeDrift.unknownTokenPct()).isCloseTo(100 * unknown / tokens, within(1e-9));
    }

    private static void process(
            TwoInputStreamOperatorTestHarness<ClassifyRequest, byte[], OutRecord> harness,
            String text) {
        try {
            harness.processElement1(request("x", text));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void oneEncoderPassServesEveryModelOnIt() throws Exception {
        models.publish("topic", 9, Pooling.MEAN);
        var harness = open(settings(2, 10_000, 1_000), null);

        harness.processElement1(request("a", "free cash", "spam", "topic"));
        harness.processElement1(request("b", "hello"));

        assertThat(results(harness))
                .extracting(r -> r.getId() + ":" + r.getModel())
                .containsExactly("a:spam", "a:topic", "b:spam", "b:topic");
    }

    @Test
    void modelsOnTwoEnginesServeSideBySideInOneJob() throws Exception {
        ModelBundle topic = models.publishOnOnnx("topic", 9, Pooling.MEAN);
        var harness = open(settings(4, 10_000, 1_000), null);

        harness.processElement1(request("a", "free cash now", "spam", "topic"));
        harness.processElement1(request("b", "lunch tomorrow", "topic", "spam"));
        harness.prepareSnapshotPreBarrier(1);

        assertThat(results(harness))
                .extracting(r -> r.getId() + ":" + r.getModel() + ":" + r.getEncoderHash())
                .containsExactly(
                        "a:spam:" + spamV1.manifest().encoder().contentHash(),
                        "a:topic:" + topic.manifest().encoder().contentHash(),
                        "b:topic:" + topic.manifest().encoder().contentHash(),
                        "b:spam:" + spamV1.manifest().encoder().contentHash());
        assertThat(topic.manifest().encoder().contentHash())
                .isNotEqualTo(spamV1.manifest().encoder().contentHash());
    }

    @Test
    void aCascadeAnswersEachRecordOnceByOneStageAcrossACheckpoint() throws Exception {
        NgramClassifier ngrams = TestNgrams.random(2, 7);
        List<String> texts = new ArrayList<>(TestNgrams.TEXTS);
        texts.addAll(List.of("call the team now", "a free lunch", "money for the meeting"));
        double[] confidence =
                texts.stream().mapToDouble(t -> top(ngrams.probabilities(t))).sorted().toArray();
        models.publishCascading("spam", 3, ngrams, confidence[confidence.length / 2]);
        var harness = open(settings(100, 10_000, 60_000), null);
        for (int i = 0; i < 4; i++) {
            harness.processElement1(request("r" + i, texts.get(i)));
        }
        harness.prepareSnapshotPreBarrier(1);
        OperatorSubtaskState snapshot = harness.snapshot(1, 1);
        List<OutRecord> before = new ArrayList<>(harness.extractOutputValues());

        var restored = restoredFrom(snapshot);
        for (int i = 4; i < texts.size(); i++) {
            restored.processElement1(request("r" + i, texts.get(i)));
        }
        restored.prepareSnapshotPreBarrier(2);
        List<OutRecord> all = new ArrayList<>(before);
        all.addAll(restored.extractOutputValues());

        List<String> ids = new ArrayList<>();
        List<String> stages = new ArrayList<>();
        for (OutRecord record : all) {
            ClassificationResult result = RESULTS.decode(record.value);
            ids.add(result.getId());
            stages.add(result.getStage());
            assertThat(record.headers).containsEntry(OutputHeaders.STAGE, result.getStage());
            float[] fromNgrams = ngrams.probabilities(texts.get(ids.size() - 1));
            assertThat(result.getStage())
                    .as(result.getId())
                    .isEqualTo(
                            top(fromNgrams) >= confidence[confidence.length / 2]
                                    ? "ngram"
                                    : "encoder");
        }
        assertThat(ids)
                .as("every record answered once, in arrival order")
                .containsExactlyElementsOf(
                        java.util.stream.IntStream.range(0, texts.size())
                                .mapToObj(i -> "r" + i)
                                .toList());
        assertThat(stages).contains("ngram", "encoder");
    }

    private static float top(float[] p) {
        return p[dev.sift.model.head.ClassificationHead.argMax(p)];
    }

    @Test
    void restoresTheVersionsItsStateNamesNotTheNewest() throws Exception {
        var harness = open(settings(1, 10_000, 1_000), null);
        ModelBundle v2 = models.publish("spam", 2, Pooling.CLS);
        harness.processElement2(announce(v2, ModelAction.ACTIVATE));
        awaitLoads(harness);
        harness.processElement2(announce(spamV1, ModelAction.ROLL_BACK));
        awaitLoads(harness);
        OperatorSubtaskState snapshot = harness.snapshot(1, 1);
        models.publish("spam", 3, Pooling.CLS); // newest, but the state says v1

        var restored = restoredFrom(snapshot);

        assertThat(versionAnswering(restored)).isEqualTo(1L);
    }

    @Test
    void withEmptyStateServesWhatTheRegistryRecordedAsAnnouncedNotTheNewest() throws Exception {
        models.publish("spam", 2, Pooling.CLS); // published and announced
        models.publishUnannounced("spam", 3, Pooling.CLS); // newest, never announced
        var harness = open(settings(1, 10_000, 1_000), null);

        assertThat(servingVersions(harness)).isEqualTo(Map.of("spam", 2L));
        assertThat(acceptedVersions(harness)).isEqualTo(Map.of("spam", 2L));
    }

    @Test
    void aFreshStartObeysTheRegistryAsItWasWhenTheOperatorWasBuilt() throws Exception {
        var built = harness(settings(1, 10_000, 1_000), null);
        models.publish("spam", 2, Pooling.CLS); // recorded after the job was built

        built.open();

        assertThat(acceptedVersions(built))
                .as("the announcement itself arrives on the models topic")
                .isEqualTo(Map.of("spam", 1L));
    }

    private InferenceSettings settings(int size, int tokens, long waitMillis) {
        return InferenceSettings.builder()
                .registry(dir.toString())
                .maxBatchSize(size)
                .maxBatchTokens(tokens)
                // These tests flush at one pass's worth; the look-ahead has its own test.
                .batchLookAhead(1)
                .maxWaitMillis(waitMillis)
                .resultsTopic("results")
                .deadLetterTopic("dead-letters")
                .build();
    }

    private TwoInputStreamOperatorTestHarness<ClassifyRequest, byte[], OutRecord> harness(
            InferenceSettings settings, String publicKeyPem) throws Exception {
        InferenceSettings withKey =
                settings.toBuilder().announcementPublicKeyPem(publicKeyPem).build();
        return harnesses.create(withKey);
    }

    private TwoInputStreamOperatorTestHarness<ClassifyRequest, byte[], OutRecord> open(
            InferenceSettings settings, String publicKeyPem) throws Exception {
        var harness = harness(settings, publicKeyPem);
        harness.open();
        return harness;
    }

    private static Map<String, Long> servingVersions(
            TwoInputStreamOperatorTestHarness<ClassifyRequest, byte[], OutRecord> harness) {
        Map<String, Long> versions = new java.util.TreeMap<>();
        operator(harness).models().serving().forEach((n, m) -> versions.put(n, m.version()));
        return versions;
    }

    /** A new subtask's harness restored from {@code snapshot} and opened. */
    private TwoInputStreamOperatorTestHarness<ClassifyRequest, byte[], OutRecord> restoredFrom(
            OperatorSubtaskState snapshot) throws Exception {
        var restored = harness(settings(1, 10_000, 1_000), null);
        restored.initializeState(snapshot);
        restored.open();
        return restored;
    }

    /** The version that answers one request sent to {@code harness} now. */
    private static long versionAnswering(
            TwoInputStreamOperatorTestHarness<ClassifyRequest, byte[], OutRecord> harness)
            throws Exception {
        harness.processElement1(request("a", "free cash"));
        List<ClassificationResult> results = results(harness);
        assertThat(results).hasSize(1);
        return results.get(0).getModelVersion();
    }

    private static Map<String, ActiveVersion> broadcastState(
            TwoInputStreamOperatorTestHarness<ClassifyRequest, byte[], OutRecord> harness)
            throws Exception {
        Map<String, ActiveVersion> state = new java.util.TreeMap<>();
        for (var entry :
                operator(harness)
                        .getOperatorStateBackend()
                        .getBroadcastState(InferenceOperator.ACTIVE_MODELS)
                        .entries()) {
            state.put(entry.getKey(), entry.getValue());
        }
        return state;
    }

    private static Map<String, Long> acceptedVersions(
            TwoInputStreamOperatorTestHarness<ClassifyRequest, byte[], OutRecord> harness) {
        Map<String, Long> versions = new java.util.TreeMap<>();
        operator(harness).models().accepted().forEach((n, a) -> versions.put(n, a.version()));
        return versions;
    }

    private static StreamRecord<ClassifyRequest> request(String id, String text, String... models) {
        ClassifyRequest request = TestModels.text(id, text, models);
        request.originalKey = ("key-" + id).getBytes(StandardCharsets.UTF_8);
        return new StreamRecord<>(request);
    }

    private static StreamRecord<byte[]> announce(ModelBundle bundle, ModelAction action) {
        ModelAnnouncement announcement = TestModels.announcement(bundle, action);
        return new StreamRecord<>(TestModels.encode(announcement));
    }

    private static List<ClassificationResult> results(
            TwoInputStreamOperatorTestHarness<ClassifyRequest, byte[], OutRecord> harness)
            throws Exception {
        List<ClassificationResult> results = new ArrayList<>();
        for (OutRecord record : harness.extractOutputValues()) {
            assertThat(record.topic).isEqualTo("results");
            results.add(RESULTS.decode(record.value));
        }
        return results;
    }

    private static List<String> ids(
            TwoInputStreamOperatorTestHarness<ClassifyRequest, byte[], OutRecord> harness)
            throws Exception {
        return results(harness).stream().map(ClassificationResult::getId).toList();
    }

    private static String pem(byte[] der) {
        return "-----BEGIN PUBLIC KEY-----\n"
                + java.util.Base64.getMimeEncoder().encodeToString(der)
                + "\n-----END PUBLIC KEY-----\n";
    }

    private static DeadLetter deadLetter(byte[] value) throws Exception {
        return OutputFormat.of(value).deadLetters().decode(value);
    }
}
