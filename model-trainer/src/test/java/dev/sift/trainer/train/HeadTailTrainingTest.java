package dev.sift.trainer.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.model.testing.TinyBertEncoder;
import dev.sift.model.tokenize.Truncation;
import dev.sift.trainer.TinyData;
import dev.sift.trainer.data.Dataset;
import dev.sift.trainer.data.Example;
import dev.sift.trainer.publish.Publisher;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Head-and-tail truncation in training, on the tiny encoder: texts whose label shows only at their
 * end, past the length, are learned from their tail and not from their head, and the published
 * version names the truncation for the job.
 */
class HeadTailTrainingTest {

    private static final int MAX_LEN = 24;

    /** The same 30 tokens in front of every text: all the head strategy sees. */
    private static final String PREAMBLE =
            "a b c d e f g h i j k l m n o p q r s t u v w x y z a b c";

    @TempDir Path dir;
    private ModelRegistry registry;
    private EncoderBundle encoder;

    @BeforeEach
    void setUp() throws Exception {
        registry = ModelRegistry.at(dir.resolve("registry"));
        encoder = TinyBertEncoder.buildInto(registry.encodersDir());
    }

    @Test
    void aLabelAtTheEndIsLearnedFromTheTailAndTheVersionSaysSo() throws Exception {
        List<Example> examples =
                TinyData.spamAndHam(60, 4).stream()
                        .map(e -> Example.text(PREAMBLE + " " + e.text(), e.label()))
                        .toList();

        Training.Outcome head = train(examples, "head", Truncation.HEAD);
        Training.Outcome headTail = train(examples, "head-tail", Truncation.headTail(4));

        // Under the head every text reads the same: no better than a coin.
        assertThat(head.evaluation().accuracy()).isLessThan(0.7);
        assertThat(headTail.evaluation().accuracy()).isGreaterThan(0.9);

        ModelBundle published =
                Publisher.publish(registry, headTail.runDir(), "macro_f1", 0.005, false);
        ModelBundle reopened = registry.open("spam", published.version());
        assertThat(reopened.manifest().textTruncation()).isEqualTo(Truncation.headTail(4));
        assertThat(reopened.manifest().maxSeqLen()).isEqualTo(MAX_LEN);
    }

    private Training.Outcome train(List<Example> examples, String run, Truncation truncation)
            throws Exception {
        return Training.run(
                new Dataset("test", examples, List.of()),
                "data-hash",
                null,
                Training.Settings.builder("spam", registry, encoder, dir.resolve(run))
                        .poolings(List.of(Pooling.CLS))
                        .maxSeqLen(MAX_LEN)
                        .encodeBatchSize(16)
                        .split(0.2, 0.2)
                        .options(new TrainingOptions(30, 16, 1e-2, 0, false, 5, 42))
                        .featureCache(dir.resolve("features"))
                        .progress(new PrintStream(OutputStream.nullOutputStream()))
                        .truncation(truncation)
                        .build());
    }
}
