package dev.sift.serving.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sift.model.bundle.Pooling;
import dev.sift.model.finetune.SharedTops;
import dev.sift.model.finetune.Top;
import dev.sift.model.finetune.TopBatch;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.testing.TinyBertEncoder;
import dev.sift.serving.testing.TestModels;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two subtasks of one TaskManager, each with its own {@link ModelLoader} as in the job, on the tiny
 * test encoder: a fine-tuned version's top is built once per JVM and closed when the last subtask
 * serving it lets it go.
 */
class SharedTopLoadingTest {

    /** One token of the trunk: enough to tell a live top from a closed one. */
    private static final TopBatch ONE_TOKEN =
            new TopBatch(1, 1, new float[TinyBertEncoder.HIDDEN_SIZE], new int[] {1}, null);

    @TempDir Path dir;
    private TestModels models;
    private ModelLoader subtask0;
    private ModelLoader subtask1;
    private int liveBefore;

    @BeforeEach
    void twoSubtasks() throws Exception {
        models = new TestModels(dir);
        subtask0 = new ModelLoader(models.registry());
        subtask1 = new ModelLoader(models.registry());
        liveBefore = SharedTops.liveCount();
    }

    @Test
    void subtasksLoadingOneVersionShareOneTop() throws Exception {
        ModelBundle v1 = models.publishFineTuned("spam", 1, 1, Pooling.CLS);

        try (LoadedModel first = load(subtask0, v1);
                LoadedModel second = load(subtask1, v1)) {
            assertThat(SharedTops.liveCount()).isEqualTo(liveBefore + 1);
            assertThat(second.top()).isSameAs(first.top());
        }
        assertThat(SharedTops.liveCount()).isEqualTo(liveBefore);
    }

    @Test
    void subtasksLoadingOneBlendedVersionShareOneNgramModel() throws Exception {
        ModelBundle v1 = models.publishBlended("spam", 1);

        try (LoadedModel first = load(subtask0, v1);
                LoadedModel second = load(subtask1, v1)) {
            assertThat(first.ngrams()).isNotNull();
            assertThat(second.ngrams()).isSameAs(first.ngrams());
        }
        ModelBundle v2 = models.publishBlended("spam", 2);
        try (LoadedModel first = load(subtask0, v1);
                LoadedModel second = load(subtask1, v2)) {
            assertThat(second.ngrams()).isNotSameAs(first.ngrams());
        }
    }

    @Test
    void differentVersionsHaveTopsOfTheirOwn() throws Exception {
        ModelBundle v1 = models.publishFineTuned("spam", 1, 1, Pooling.CLS);
        ModelBundle v2 = models.publishFineTuned("spam", 2, 1, Pooling.CLS);

        try (LoadedModel first = load(subtask0, v1);
                LoadedModel second = load(subtask1, v2)) {
            assertThat(SharedTops.liveCount()).isEqualTo(liveBefore + 2);
            assertThat(second.top()).isNotSameAs(first.top());
        }
        assertThat(SharedTops.liveCount()).isEqualTo(liveBefore);
    }

    @Test
    void aReplacedVersionsTopClosesWhenTheLastSubtaskServingItLetsGo() throws Exception {
        ModelBundle v1 = models.publishFineTuned("spam", 1, 1, Pooling.CLS);
        ModelBundle v2 = models.publishFineTuned("spam", 2, 1, Pooling.CLS);
        LoadedModel v1On0 = load(subtask0, v1);
        LoadedModel v1On1 = load(subtask1, v1);
        Top top = v1On0.top();

        // Subtask 0 swaps to v2 first: subtask 1 still serves v1 on the same top.
        LoadedModel v2On0 = load(subtask0, v2);
        v1On0.close();
        assertThat(v1On1.top().run(ONE_TOKEN).probabilities()[0]).hasSize(2);
        assertThat(SharedTops.liveCount()).isEqualTo(liveBefore + 2);

        // Then subtask 1 swaps too: v1's top is gone, its TensorFlow session closed.
        LoadedModel v2On1 = load(subtask1, v2);
        v1On1.close();
        assertThatThrownBy(() -> top.run(ONE_TOKEN)).isInstanceOf(IllegalStateException.class);
        assertThat(SharedTops.liveCount()).isEqualTo(liveBefore + 1);
        assertThat(v2On1.top()).isSameAs(v2On0.top());

        v2On0.close();
        v2On1.close();
        assertThat(SharedTops.liveCount()).isEqualTo(liveBefore);
    }

    private static LoadedModel load(ModelLoader loader, ModelBundle bundle) throws Exception {
        return loader.load(loader.verify(bundle.name(), bundle.version(), bundle.manifestSha256()));
    }
}
