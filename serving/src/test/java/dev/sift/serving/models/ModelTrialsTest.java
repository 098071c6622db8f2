package dev.sift.serving.models;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sift.model.bundle.Pooling;
import dev.sift.model.registry.ModelBundle;
import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.ModelAction;
import dev.sift.schemas.ModelAnnouncement;
import dev.sift.serving.classify.BatchClassifier;
import dev.sift.serving.models.AcceptedVersion.TrialKind;
import dev.sift.serving.request.ClassifyRequest;
import dev.sift.serving.testing.TestModels;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Shadows and canaries in one subtask's control plane: spam v2 serves, v1 and v3 are published. */
class ModelTrialsTest {

    @TempDir Path dir;
    private TestModels models;
    private ModelBundle v1;
    private ModelBundle v2;
    private ModelBundle v3;
    private final List<String> refusals = new ArrayList<>();
    private ModelManager manager;

    @BeforeEach
    void serveV2() throws Exception {
        models = new TestModels(dir);
        v1 = models.publishUnannounced("spam", 1, Pooling.CLS);
        v2 = models.publishUnannounced("spam", 2, Pooling.CLS);
        v3 = models.publishUnannounced("spam", 3, Pooling.MEAN);
        models.record(TestModels.announcement(v2, ModelAction.ACTIVATE));
        manager = manager();
        manager.start(ModelManager.recordedAnnouncements(models.registry(), Set.of()));
    }

    @AfterEach
    void close() throws Exception {
        manager.close();
    }

    @Test
    void aShadowAnswersBesideTheServingVersionApartUntilItIsStopped() throws Exception {
        assertThat(manager.onAnnouncement(trial(v3, ModelAction.SHADOW, null))).isPresent();
        awaitLoads();

        BatchClassifier.Outcome outcome = classify("free cash now");
        assertThat(outcome.results())
                .singleElement()
                .extracting(ClassificationResult::getModelVersion)
                .isEqualTo(2L);
        assertThat(outcome.shadowResults())
                .singleElement()
                .extracting(ClassificationResult::getModelVersion)
                .isEqualTo(3L);
        assertThat(manager.accepted().get("spam").shadow().version()).isEqualTo(3);

        assertThat(manager.onAnnouncement(trial(v3, ModelAction.STOP_SHADOW, null))).isPresent();

        assertThat(manager.trials()).isEmpty();
        assertThat(manager.accepted().get("spam").shadow()).isNull();
        assertThat(classify("free cash now").shadowResults()).isEmpty();
        assertThat(refusals).isEmpty();
    }

    @Test
    void activatingTheVersionOnTrialServesItsLoadedCopyAtOnceAndEndsTheTrial() throws Exception {
        manager.onAnnouncement(trial(v3, ModelAction.CANARY, 20.0));
        awaitLoads();

        manager.onAnnouncement(TestModels.announcement(v3, ModelAction.ACTIVATE));

        assertThat(manager.pendingLoads()).as("nothing to load: the canary's copy serves").isZero();
        assertThat(manager.servingVersion("spam")).hasValue(3);
        assertThat(manager.trials()).isEmpty();
        assertThat(manager.accepted().get("spam").canary()).isNull();
    }

    @Test
    void anyOtherChangeOfTheServingVersionEndsBothTrials() throws Exception {
        manager.onAnnouncement(trial(v3, ModelAction.CANARY, 20.0));
        manager.onAnnouncement(trial(v3, ModelAction.SHADOW, null));
        awaitLoads();
        assertThat(manager.trialVersion("spam", TrialKind.SHADOW)).hasValue(3);
        assertThat(manager.trialVersion("spam", TrialKind.CANARY)).hasValue(3);

        manager.onAnnouncement(TestModels.announcement(v1, ModelAction.ROLL_BACK));
        awaitLoads();

        assertThat(manager.servingVersion("spam")).hasValue(1);
        assertThat(manager.trials()).isEmpty();
        assertThat(manager.trialVersion("spam", TrialKind.SHADOW)).isEmpty();
        AcceptedVersion record = manager.accepted().get("spam");
        assertThat(record.shadow()).isNull();
        assertThat(record.canary()).isNull();
    }

    @Test
    void refusesTrialsThatCannotRunAndIgnoresStopsWithNothingToStop() throws Exception {
        assertThat(manager.onAnnouncement(trial(v2, ModelAction.SHADOW, null)))
                .as("the serving version itself")
                .isEmpty();
        assertThat(manager.onAnnouncement(trial(v3, ModelAction.CANARY, null))).isEmpty();
        assertThat(manager.onAnnouncement(trial(v3, ModelAction.CANARY, 0.0))).isEmpty();
        assertThat(manager.onAnnouncement(trial(v3, ModelAction.CANARY, 100.5))).isEmpty();
        assertThat(refusals).hasSize(4);
        assertThat(refusals.get(0)).contains("is the serving version");
        assertThat(refusals.get(1)).contains("above 0 and at most 100");

        refusals.clear();
        assertThat(manager.onAnnouncement(trial(v3, ModelAction.STOP_CANARY, null))).isEmpty();
        assertThat(refusals).as("nothing to stop is no attack").isEmpty();

        manager.onAnnouncement(TestModels.announcement(v2, ModelAction.RETIRE));
        assertThat(manager.onAnnouncement(trial(v3, ModelAction.SHADOW, null))).isEmpty();
        assertThat(refusals).singleElement().asString().contains("nothing serves spam");
        assertThat(manager.pendingLoads()).isZero();
    }

    @Test
    void theSameTrialAnnouncementAgainIsIgnoredAndAnOlderOneIsRefused() throws Exception {
        ModelAnnouncement older = trial(v1, ModelAction.SHADOW, null);
        ModelAnnouncement shadow = trial(v3, ModelAction.SHADOW, null);
        assertThat(manager.onAnnouncement(shadow)).isPresent();

        assertThat(manager.onAnnouncement(shadow)).as("read from the topic twice").isEmpty();
        assertThat(refusals).isEmpty();
        assertThat(manager.onAnnouncement(older)).isEmpty();
        assertThat(refusals).singleElement().asString().contains("not after");
    }

    @Test
    void aRestoredRecordLoadsItsTrialsBeforeTheFirstRecord() throws Exception {
        AcceptedVersion record =
                AcceptedVersion.after(null, 2, v2.manifestSha256(), 1)
                        .withTrial(
                                TrialKind.CANARY,
                                new AcceptedVersion.Trial(3, v3.manifestSha256(), 25),
                                2);
        try (ModelManager restored = manager()) {
            restored.restore(Map.of("spam", record));

            LoadedTrials trials = restored.trials().get("spam");
            assertThat(trials.canary().version()).isEqualTo(3);
            assertThat(trials.canaryPercent()).isEqualTo(25);
            assertThat(trials.shadow()).isNull();
        }
    }

    private ModelAnnouncement trial(ModelBundle bundle, ModelAction action, Double percent) {
        return ModelAnnouncement.newBuilder(TestModels.announcement(bundle, action))
                .setCanaryPercent(percent)
                .build();
    }

    private BatchClassifier.Outcome classify(String text) {
        ClassifyRequest request = TestModels.text("r", text, "spam");
        return new BatchClassifier(8, 1_000)
                .classify(
                        List.of(request),
                        null,
                        manager.serving(),
                        manager.trials(),
                        List.of(),
                        Clock.systemUTC())
                .outcomes()
                .get(0);
    }

    private ModelManager manager() {
        return new ModelManager(
                models.registry(),
                null,
                Set.of(),
                new ModelManager.Events() {
                    @Override
                    public void refused(String model, String reason) {
                        refusals.add(reason);
                    }

                    @Override
                    public void serving(String model) {}
                });
    }

    private void awaitLoads() throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (manager.pendingLoads() > 0) {
            assertThat(System.nanoTime()).as("loads finish").isLessThan(deadline);
            Thread.sleep(10);
            manager.applyFinishedLoads();
        }
    }
}
