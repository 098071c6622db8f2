package dev.sift.job.infer;

import static dev.sift.job.infer.OperatorHarnesses.awaitLoads;
import static dev.sift.job.infer.OperatorHarnesses.operator;
import static dev.sift.schemas.ModelAction.ACTIVATE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sift.job.S3Bucket;
import dev.sift.job.sink.OutRecord;
import dev.sift.model.bundle.BundleException;
import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.ModelAnnouncement;
import dev.sift.schemas.RecordCodec;
import dev.sift.serving.models.FlinkFileSystemRegistry;
import dev.sift.serving.request.ClassifyRequest;
import dev.sift.serving.testing.TestModels;
import dev.sift.trainer.publish.Announcer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The registry on S3: a real S3 server (S3Proxy) in this JVM, read through Flink's S3 filesystem
 * with {@code sift.registry=s3://bucket/registry}. The registry is published locally by the same
 * code the trainer runs, then uploaded object by object, as a sync to a bucket would.
 */
class S3RegistryITCase {

    private static final RecordCodec<ClassificationResult> RESULTS =
            RecordCodec.of(ClassificationResult.class);
    private static final AtomicInteger PREFIXES = new AtomicInteger();

    private static S3Bucket s3;

    @TempDir Path local;
    private TestModels models;
    private String prefix;

    @BeforeAll
    static void startS3() throws Exception {
        s3 = S3Bucket.start("models");
    }

    @AfterAll
    static void stopS3() throws Exception {
        s3.close();
    }

    @BeforeEach
    void publishLocally() throws Exception {
        models = new TestModels(local);
        prefix = "registry-" + PREFIXES.incrementAndGet();
    }

    @Test
    void servesFromS3FollowsAnUploadedVersionAndRefusesATamperedOne() throws Exception {
        ModelBundle v1 = models.publishUnannounced("spam", 1, Pooling.CLS);
        // As 'sift-trainer announce --registry-only --registry-uri s3://...' records it.
        Announcer.record(
                models.registry(),
                Announcer.announcement(models.registry(), v1, ACTIVATE, null, s3.uri(prefix)));
        s3.upload(local, prefix);
        var harness = open(s3.uri(prefix).toString());

        harness.processElement1(request("a", "free cash now"));
        assertThat(versions(harness)).containsExactly(1L);

        ModelBundle v2 = models.publishUnannounced("spam", 2, Pooling.MEAN);
        uploadVersion(v2);
        harness.processElement2(announce(inBucket(TestModels.announcement(v2, ACTIVATE))));
        awaitLoads(harness);
        harness.processElement1(request("b", "free cash now"));
        assertThat(versions(harness)).containsExactly(2L);

        ModelBundle v3 = models.publishUnannounced("spam", 3, Pooling.CLS);
        uploadVersion(v3);
        byte[] head = Files.readAllBytes(v3.dir().resolve("head.bin"));
        head[head.length - 1] ^= 1;
        s3.put(prefix + "/spam/3/head.bin", head);
        harness.processElement2(announce(inBucket(TestModels.announcement(v3, ACTIVATE))));
        awaitLoads(harness);
        harness.processElement1(request("c", "free cash now"));
        assertThat(versions(harness)).containsExactly(2L);
        assertThat(acceptedVersion(harness)).as("recorded; it failed to load here").isEqualTo(3L);

        // Repaired in the bucket, v3 serves on its next try: what failed was the tampered object.
        uploadVersion(v3);
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (operator(harness).models().servingVersion("spam").orElse(0) != 3) {
            assertThat(System.nanoTime()).as("the retry loads v3").isLessThan(deadline);
            Thread.sleep(50);
            operator(harness).models().applyFinishedLoads();
        }
        harness.processElement1(request("d", "free cash now"));
        assertThat(versions(harness)).containsExactly(3L);
    }

    @Test
    void refusesAnAnnouncementWhoseBundleUriIsNotInTheJobsRegistry() throws Exception {
        ModelBundle v1 = models.publishUnannounced("spam", 1, Pooling.CLS);
        models.record(inBucket(TestModels.announcement(v1, ACTIVATE)));
        s3.upload(local, prefix);
        var harness = open(s3.uri(prefix).toString());
        ModelBundle v2 = models.publishUnannounced("spam", 2, Pooling.MEAN);
        uploadVersion(v2);

        // The same version, named by the publisher's local folder and by another bucket's.
        harness.processElement2(announce(TestModels.announcement(v2, ACTIVATE)));
        harness.processElement2(
                announce(
                        withBundleUri(
                                TestModels.announcement(v2, ACTIVATE),
                                "s3://other/" + prefix + "/spam/2")));
        awaitLoads(harness);
        assertThat(acceptedVersion(harness)).isEqualTo(1L);

        harness.processElement2(announce(inBucket(TestModels.announcement(v2, ACTIVATE))));
        awaitLoads(harness);
        assertThat(acceptedVersion(harness)).isEqualTo(2L);
    }

    @Test
    void downloadsAnEncoderOnlyWhenEveryFileVerifies(@TempDir Path cache) throws Exception {
        ModelBundle v1 = models.publishUnannounced("spam", 1, Pooling.CLS);
        s3.upload(local, prefix);
        var registry = new FlinkFileSystemRegistry(s3.uri(prefix), cache);
        String hash = v1.manifest().encoder().contentHash();
        EncoderBundle original = models.registry().encoder(hash);
        String tokenizer = original.manifest().tokenizerFile();
        String key = prefix + "/" + ModelRegistry.ENCODERS + "/" + hash + "/" + tokenizer;
        byte[] bytes = Files.readAllBytes(original.tokenizerFile());

        s3.put(key, "{}".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> registry.encoder(hash))
                .isInstanceOf(BundleException.class)
                .hasMessageContaining("s3://models/" + prefix)
                .hasMessageContaining(tokenizer + " does not match its manifest");
        assertThat(cache.resolve(ModelRegistry.ENCODERS).resolve(hash)).doesNotExist();

        s3.put(key, bytes);
        EncoderBundle downloaded = registry.encoder(hash);
        assertThat(downloaded.dir()).isEqualTo(cache.resolve(ModelRegistry.ENCODERS).resolve(hash));
        assertThat(downloaded.tokenizerFile()).hasSameBinaryContentAs(original.tokenizerFile());
        assertThat(registry.open("spam", 1).manifestSha256()).isEqualTo(v1.manifestSha256());
    }

    @Test
    void refusesAVersionWithAnObjectItsManifestDoesNotList(@TempDir Path cache) throws Exception {
        models.publishUnannounced("spam", 1, Pooling.CLS);
        s3.upload(local, prefix);
        s3.put(prefix + "/spam/1/extra.bin", new byte[] {1, 2, 3});
        var registry = new FlinkFileSystemRegistry(s3.uri(prefix), cache);

        assertThat(registry.models()).containsExactly("spam");
        assertThat(registry.versions("spam")).containsExactly(1L);
        assertThatThrownBy(() -> registry.open("spam", 1))
                .isInstanceOf(BundleException.class)
                .hasMessageContaining("extra.bin is not listed in the manifest");
    }

    /**
     * An object store takes keys no folder can hold. Flink's S3 filesystem (S3A) resolves a key
     * segment '..' itself, so such a key never reaches the registry as a name (it makes the version
     * unreadable, and the load fails); one with a backslash does, and is refused by name before
     * anything is written where the name points.
     */
    @ParameterizedTest
    @ValueSource(strings = {"sub/..", "..\\escape.bin"})
    void refusesAVersionHoldingAnObjectNoFolderCanHold(String name, @TempDir Path cache)
            throws Exception {
        models.publishUnannounced("spam", 1, Pooling.CLS);
        s3.upload(local, prefix);
        s3.put(prefix + "/spam/1/" + name, new byte[] {1, 2, 3});
        var registry = new FlinkFileSystemRegistry(s3.uri(prefix), cache);

        assertThatThrownBy(() -> registry.open("spam", 1)).isInstanceOf(IOException.class);
        try (var files = Files.walk(cache)) {
            assertThat(files.filter(f -> f.getFileName().toString().contains("escape")))
                    .as("nothing written outside the staging folder")
                    .isEmpty();
        }
        if (name.contains("\\")) {
            assertThatThrownBy(() -> registry.open("spam", 1))
                    .isInstanceOf(BundleException.class)
                    .hasMessageContaining("holds an entry named '..\\escape.bin'");
        }
    }

    private void uploadVersion(ModelBundle bundle) throws Exception {
        s3.upload(bundle.dir(), prefix + "/" + bundle.name() + "/" + bundle.version());
    }

    /** The announcement a publisher of the bucket's registry makes: bundleUri in the bucket. */
    private ModelAnnouncement inBucket(ModelAnnouncement announcement) {
        return withBundleUri(
                announcement,
                s3.uri(prefix + "/" + announcement.getName() + "/" + announcement.getVersion())
                        .toString());
    }

    private static ModelAnnouncement withBundleUri(ModelAnnouncement announcement, String uri) {
        return ModelAnnouncement.newBuilder(announcement).setBundleUri(uri).build();
    }

    private TwoInputStreamOperatorTestHarness<ClassifyRequest, byte[], OutRecord> open(
            String registry) throws Exception {
        InferenceSettings settings =
                InferenceSettings.builder()
                        .registry(registry)
                        .maxBatchSize(1)
                        .batchLookAhead(1) // every request is flushed on arrival
                        .resultsTopic("results")
                        .deadLetterTopic("dead-letters")
                        .build();
        var harness = new TwoInputStreamOperatorTestHarness<>(new InferenceOperator(settings));
        harness.open();
        return harness;
    }

    private static long acceptedVersion(
            TwoInputStreamOperatorTestHarness<ClassifyRequest, byte[], OutRecord> harness) {
        return ((InferenceOperator) harness.getOperator())
                .models()
                .accepted()
                .get("spam")
                .version();
    }

    /** The model versions of the results emitted since the last call, in order. */
    private static List<Long> versions(
            TwoInputStreamOperatorTestHarness<ClassifyRequest, byte[], OutRecord> harness)
            throws Exception {
        List<Long> versions = new ArrayList<>();
        for (OutRecord record : harness.extractOutputValues()) {
            assertThat(record.topic).isEqualTo("results");
            versions.add(RESULTS.decode(record.value).getModelVersion());
        }
        harness.getOutput().clear();
        return versions;
    }

    private static StreamRecord<ClassifyRequest> request(String id, String text) {
        return new StreamRecord<>(TestModels.text(id, text));
    }

    private static StreamRecord<byte[]> announce(ModelAnnouncement announcement) {
        return new StreamRecord<>(TestModels.encode(announcement));
    }
}
