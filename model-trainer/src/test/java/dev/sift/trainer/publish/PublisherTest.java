package dev.sift.trainer.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.ngram.NgramFormat;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.model.testing.TinyBertEncoder;
import dev.sift.trainer.TinyData;
import dev.sift.trainer.data.Dataset;
import dev.sift.trainer.data.Example;
import dev.sift.trainer.features.FeatureExtractor;
import dev.sift.trainer.train.Training;
import dev.sift.trainer.train.TrainingOptions;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Train → publish → refuse a worse run → force it, on the tiny encoder and a real registry. */
class PublisherTest {

    @TempDir Path dir;
    private ModelRegistry registry;
    private EncoderBundle encoder;

    @BeforeEach
    void setUp() throws Exception {
        registry = ModelRegistry.at(dir.resolve("registry"));
        encoder = TinyBertEncoder.buildInto(registry.encodersDir());
    }

    @Test
    void publishesRefusesAWorseRunAndForcesIt() throws Exception {
        List<Example> good = TinyData.spamAndHam(60, 1);
        Training.Outcome first = train(good, "run-1");
        assertThat(first.evaluation().accuracy()).isGreaterThan(0.9);
        assertThat(first.runDir().resolve("report.html")).isRegularFile();

        ModelBundle v1 = Publisher.publish(registry, first.runDir(), "macro_f1", 0.005, false);
        assertThat(v1.version()).isEqualTo(1);
        assertThat(v1.dir().resolve("report.html")).isRegularFile();
        assertThat(v1.manifest().metrics()).containsKey("accuracy");
        assertThat(v1.manifest().trainingDataHash()).isEqualTo("data-hash");
        // How sure it was on each of its test records, for the job's drift metrics.
        assertThat(Arrays.stream(v1.confidenceProfile().orElseThrow().counts()).sum())
                .isEqualTo(first.evaluation().size());

        // Same data, but one epoch at a tiny learning rate: a head barely off its random start.
        Training.Outcome worse =
                train(good, "run-2", new TrainingOptions(1, 16, 1e-6, 0, false, 1, 7));
        assertThat(worse.evaluation().macroF1()).isLessThan(first.evaluation().macroF1());
        assertThat(worse.baseline().version()).isEqualTo(1);

        assertThatThrownBy(
                        () -> Publisher.publish(registry, worse.runDir(), "macro_f1", 0.005, false))
                .isInstanceOf(Publisher.RefusedException.class)
                .hasMessageContaining("spam v1 scores macro_f1")
                .hasMessageContaining("more than the margin 0.0050. Use --force");
        assertThat(registry.versions("spam")).containsExactly(1L);

        ModelBundle v2 = Publisher.publish(registry, worse.runDir(), "macro_f1", 0.005, true);
        assertThat(v2.version()).isEqualTo(2);
        assertThat(v2.manifest().parentVersion()).isEqualTo(1L);

        assertThatThrownBy(
                        () ->
                                Publisher.publish(
                                        registry, first.runDir(), "macro_f1", 0.005, true, true))
                .isInstanceOf(Publisher.RefusedException.class)
                .hasMessageContaining("only a fine-tuned top (train --fine-tune-layers) can be");
        assertThat(registry.versions("spam")).containsExactly(1L, 2L);
    }

    @Test
    void aBlendedRunIsPublishedWithItsNgramModel() throws Exception {
        // A head one step off its random start: the TF-IDF model, strong on these texts, earns a
        // share of the blend on validation data.
        TrainingOptions weakHead = new TrainingOptions(1, 16, 1e-6, 0, false, 1, 7);
        List<Example> examples = TinyData.spamAndHam(60, 5);
        Training.Outcome plain = train(examples, "plain", weakHead, false);
        Training.Outcome blended = train(examples, "blended", weakHead, true);

        assertThat(plain.blend()).isNull();
        assertThat(plain.runDir().resolve("ngrams.bin")).doesNotExist();
        assertThat(blended.blend().blends()).isTrue();
        assertThat(blended.blend().validationLoss())
                .isLessThan(blended.blend().encoderValidationLoss());
        assertThat(blended.encoderEvaluation().logLoss()).isEqualTo(plain.evaluation().logLoss());
        assertThat(blended.evaluation().logLoss()).isLessThan(plain.evaluation().logLoss());
        assertThat(blended.runDir().resolve("ngrams.bin")).isRegularFile();
        String runJson = Files.readString(blended.runDir().resolve("run.json"));
        assertThat(runJson).contains("\"encoderWeight\" : " + blended.blend().encoderWeight());

        ModelBundle v1 = Publisher.publish(registry, blended.runDir(), "macro_f1", 0, false);

        assertThat(v1.isBlended()).isTrue();
        assertThat(v1.manifest().ngrams().encoderWeight())
                .isEqualTo(blended.blend().encoderWeight());
        assertThat(v1.manifest().metrics()).isEqualTo(blended.evaluation().asMetrics());
        String text = examples.get(0).text();
        assertThat(v1.ngrams().probabilities(text))
                .containsExactly(
                        NgramFormat.read(blended.runDir().resolve("ngrams.bin"))
                                .probabilities(text));

        // The next run is compared with v1 as it serves: blended.
        Training.Outcome next = train(examples, "next", weakHead, true);
        assertThat(next.baseline().version()).isEqualTo(1);
        assertThat(next.baseline().evaluation().logLoss())
                .isEqualTo(blended.evaluation().logLoss());
    }

    @Test
    void refusesARunComparedWithAVersionThatIsNoLongerLatest() throws Exception {
        Training.Outcome first = train(TinyData.spamAndHam(40, 1), "a");
        Publisher.publish(registry, first.runDir(), "macro_f1", 0.005, false);
        Training.Outcome second = train(TinyData.spamAndHam(40, 2), "b");
        Training.Outcome third = train(TinyData.spamAndHam(40, 3), "c");
        Publisher.publish(registry, second.runDir(), "macro_f1", 1, false);

        assertThatThrownBy(() -> Publisher.publish(registry, third.runDir(), "macro_f1", 1, false))
                .hasMessageContaining("was compared with spam v1, but v2 has been published");
    }

    @Test
    void aSecondExtractionOnTheSameDataNeverRunsTheEncoder() throws Exception {
        List<Example> examples = TinyData.spamAndHam(20, 4);
        Path cache = dir.resolve("features");
        try (FeatureExtractor first = new FeatureExtractor(encoder, 64, 8, cache, null)) {
            first.vectors(examples, Pooling.CLS);
            assertThat(first.encodedInputs()).isEqualTo(examples.size());
        }
        try (FeatureExtractor second = new FeatureExtractor(encoder, 64, 8, cache, null)) {
            float[][] mean = second.vectors(examples, Pooling.MEAN);
            float[][] cls = second.vectors(examples, Pooling.CLS);
            assertThat(second.encodedInputs()).isZero();
            assertThat(mean).hasNumberOfRows(examples.size());
            assertThat(cls[0]).hasSize(TinyBertEncoder.HIDDEN_SIZE);
        }
        try (var files = Files.walk(cache)) {
            assertThat(files.filter(f -> f.toString().endsWith(".bin")).count()).isEqualTo(3);
        }
    }

    private Training.Outcome train(List<Example> examples, String run) throws Exception {
        return train(examples, run, new TrainingOptions(60, 16, 0.01, 1e-3, false, 6, 42));
    }

    private Training.Outcome train(List<Example> examples, String run, TrainingOptions options)
            throws Exception {
        return train(examples, run, options, false);
    }

    private Training.Outcome train(
            List<Example> examples, String run, TrainingOptions options, boolean blendNgrams)
            throws Exception {
        Dataset data = new Dataset("test", examples, List.of());
        return Training.run(
                data,
                "data-hash",
                Training.Settings.builder("spam", registry, encoder, dir.resolve(run))
                        .poolings(List.of(Pooling.CLS))
                        .maxSeqLen(32)
                        .encodeBatchSize(16)
                        .options(options)
                        .featureCache(dir.resolve("features"))
                        .progress(quiet())
                        .blendNgrams(blendNgrams)
                        .build());
    }

    private static PrintStream quiet() {
        return new PrintStream(OutputStream.nullOutputStream());
    }
}
