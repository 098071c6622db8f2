package dev.sift.job.feedback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.sift.job.feedback.FeedbackMetrics.VersionFeedback;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class FeedbackJoinTest {

    private static final Duration TTL = Duration.ofMinutes(10);
    private static final long TTL_MS = TTL.toMillis();

    private final List<KeyedTwoInputStreamOperatorTestHarness<String, Answer, Feedback, Void>>
            harnesses = new ArrayList<>();
    private FeedbackJoin join;

    @AfterEach
    void close() throws Exception {
        for (var harness : harnesses) {
            harness.close();
        }
    }

    @Test
    void judgesAnAnswerOnceHoweverMuchFeedbackFollows() throws Exception {
        var harness = open(0);

        harness.processElement1(spamV3("m-1", "spam"), 0);
        harness.processElement2(feedback("m-1", "spam"), 0);
        harness.processElement2(feedback("m-1", "ham"), 0);
        harness.processElement2(feedback("m-1", "spam"), 0);

        VersionFeedback v3 = join.metrics().version("spam", 3);
        assertThat(v3.labeled.getCount()).isEqualTo(1);
        assertThat(v3.correct.getCount()).isEqualTo(1);
        assertThat(v3.pairs("spam", "spam")).isEqualTo(1);
        assertThat(v3.pairs("ham", "spam")).as("the second feedback judged nothing").isZero();
        assertThat(join.metrics().in.getCount()).isEqualTo(3);
        assertThat(join.metrics().joined.getCount()).isEqualTo(1);
        assertThat(join.metrics().repeated.getCount()).isEqualTo(2);
    }

    @Test
    void anAnswerGivenAgainReplacesTheOneWaitingButNotAJudgedOne() throws Exception {
        var harness = open(0);

        // Replayed before any feedback: the later answer of the version is judged.
        harness.processElement1(spamV3("m-1", "spam"), 0);
        harness.processElement1(spamV3("m-1", "ham"), 0);
        harness.processElement2(feedback("m-1", "ham"), 0);
        // Replayed after its feedback: nothing changes, and more feedback is a repeat.
        harness.setProcessingTime(TTL_MS / 2);
        harness.processElement1(spamV3("m-1", "spam"), 0);
        harness.processElement2(feedback("m-1", "spam"), 0);
        harness.setProcessingTime(TTL_MS);
        assertThat(harness.numKeyedStateEntries())
                .as("the replay neither kept its answer nor extended the key's life")
                .isZero();

        VersionFeedback v3 = join.metrics().version("spam", 3);
        assertThat(v3.labeled.getCount()).isEqualTo(1);
        assertThat(v3.correct.getCount()).isEqualTo(1);
        assertThat(join.metrics().joined.getCount()).isEqualTo(1);
        assertThat(join.metrics().repeated.getCount()).isEqualTo(1);
    }

    /**
     * A shadow answers the same request as the serving version: the one feedback judges both, each
     * once, whichever came first, so their live accuracies compare on the same requests.
     */
    @Test
    void oneFeedbackJudgesEveryVersionsAnswerToTheRequestOnce() throws Exception {
        var harness = open(0);

        harness.processElement1(answer("m-1", 2, "spam"), 0);
        harness.processElement1(spamV3("m-1", "ham"), 0);
        harness.processElement2(feedback("m-1", "ham"), 0);
        harness.processElement2(feedback("m-2", "spam"), 0);
        harness.processElement1(answer("m-2", 2, "spam"), 0);
        harness.processElement1(spamV3("m-2", "spam"), 0);
        harness.processElement1(spamV3("m-2", "spam"), 0); // replayed: judged already

        VersionFeedback v2 = join.metrics().version("spam", 2);
        VersionFeedback v3 = join.metrics().version("spam", 3);
        assertThat(v2.labeled.getCount()).isEqualTo(2);
        assertThat(v2.correct.getCount()).isEqualTo(1);
        assertThat(v3.labeled.getCount()).isEqualTo(2);
        assertThat(v3.correct.getCount()).isEqualTo(2);
        assertThat(join.metrics().joined.getCount()).isEqualTo(4);
        assertThat(join.metrics().repeated.getCount()).isZero();
    }

    @Test
    void feedbackThatArrivesBeforeItsAnswerIsJudgedWhenTheAnswerComes() throws Exception {
        var harness = open(0);

        harness.processElement2(feedback("m-1", "ham"), 0);
        harness.setProcessingTime(TTL_MS - 1);
        assertThat(join.metrics().joined.getCount()).isZero();
        harness.processElement1(spamV3("m-1", "spam"), 0);

        VersionFeedback v3 = join.metrics().version("spam", 3);
        assertThat(v3.pairs("ham", "spam")).isEqualTo(1);
        assertThat(v3.correct.getCount()).isZero();
        assertThat(join.metrics().joined.getCount()).isEqualTo(1);
        assertThat(join.metrics().unmatched.getCount()).isZero();
    }

    @Test
    void feedbackThatArrivesAfterTheAnswersTtlIsNeverJudged() throws Exception {
        var harness = open(0);

        harness.processElement1(spamV3("m-1", "spam"), 0);
        harness.setProcessingTime(TTL_MS);
        harness.processElement2(feedback("m-1", "spam"), 0);
        assertThat(join.metrics().joined.getCount()).isZero();
        assertThat(join.metrics().unmatched.getCount())
                .as("it may yet meet a late answer")
                .isZero();
        harness.setProcessingTime(2 * TTL_MS);

        assertThat(join.metrics().unmatched.getCount()).isEqualTo(1);
        assertThat(join.metrics().joined.getCount()).isZero();
        assertThat(join.metrics().version("spam", 3).labeled.getCount()).isZero();
    }

    @Test
    void leavesNoStateBehindOnceTheTtlHasPassed() throws Exception {
        var harness = open(0);

        harness.processElement1(spamV3("judged", "spam"), 0); // answer, then feedback
        harness.processElement2(feedback("judged", "spam"), 0);
        harness.processElement2(feedback("judged", "ham"), 0);
        harness.processElement1(spamV3("unjudged", "spam"), 0); // an answer nobody judges
        harness.setProcessingTime(TTL_MS / 2);
        harness.processElement2(feedback("early", "spam"), 0); // feedback, then answer
        harness.processElement1(spamV3("early", "ham"), 0);
        harness.processElement2(feedback("orphan", "ham"), 0); // feedback with no answer
        harness.processElement1(spamV3("replayed", "spam"), 0); // an answer given twice
        harness.processElement1(spamV3("replayed", "spam"), 0);
        assertThat(harness.numKeyedStateEntries()).isPositive();

        harness.setProcessingTime(TTL_MS + TTL_MS / 2);

        assertThat(harness.numKeyedStateEntries()).isZero();
        assertThat(harness.numProcessingTimeTimers()).isZero();
        assertThat(join.metrics().unmatched.getCount()).isEqualTo(1);
        assertThat(join.metrics().joined.getCount()).isEqualTo(2);
    }

    @Test
    void aRestoreKeepsWaitingFeedbackAndWhatWasJudged() throws Exception {
        var before = open(0);
        before.processElement1(spamV3("judged", "spam"), 0);
        before.processElement2(feedback("judged", "spam"), 0);
        before.processElement2(feedback("waiting", "ham"), 0);
        OperatorSubtaskState snapshot = before.snapshot(1, 0);
        before.close();
        harnesses.remove(before);

        var after = create();
        after.setProcessingTime(1_000);
        after.initializeState(snapshot);
        after.open();
        after.processElement1(spamV3("waiting", "spam"), 0);
        after.processElement1(spamV3("judged", "ham"), 0); // a replay after the restore
        after.processElement2(feedback("judged", "ham"), 0);

        VersionFeedback v3 = join.metrics().version("spam", 3);
        assertThat(v3.pairs("ham", "spam")).as("the waiting feedback, joined").isEqualTo(1);
        assertThat(v3.pairs("spam", "spam")).as("restored from the checkpoint").isEqualTo(1);
        assertThat(v3.pairs("ham", "ham")).as("judged before, not again").isZero();
        assertThat(v3.labeled.getCount()).isEqualTo(2);
        assertThat(join.metrics().joined.getCount()).isEqualTo(2);
        assertThat(join.metrics().repeated.getCount()).isEqualTo(1);
        assertThat(join.metrics().in.getCount()).isEqualTo(3);

        after.setProcessingTime(1_000 + TTL_MS);
        assertThat(after.numKeyedStateEntries()).as("restored timers expire the keys").isZero();
    }

    @Test
    void computesAccuracyAndMacroF1FromWhatItJudged() throws Exception {
        var harness = open(0);
        // true label -> answered label, times:
        judge(harness, "spam", "spam", 3);
        judge(harness, "spam", "ham", 1);
        judge(harness, "ham", "ham", 4);
        judge(harness, "ham", "spam", 2);
        judge(harness, "eggs", "ham", 1);

        VersionFeedback v3 = join.metrics().version("spam", 3);
        // 7 of 11 right.
        assertThat(v3.accuracyPct()).isCloseTo(100.0 * 7 / 11, within(1e-9));
        // F1 = 2TP / (2TP + FP + FN). spam: TP 3, FP 2, FN 1: 6/9. ham: TP 4, FP 1 + 1, FN 2:
        // 8/12. eggs (only ever the truth): TP 0, FN 1: 0. The mean: (2/3 + 2/3 + 0) / 3 = 4/9.
        assertThat(v3.macroF1()).isCloseTo(4.0 / 9, within(1e-9));
    }

    @Test
    void feedbackWithALabelTheVersionLacksDecidesTheAnswerButNotItsAccuracy() throws Exception {
        var harness = open(0);

        harness.processElement1(spamV3("m-1", "spam"), 0);
        harness.processElement2(feedback("m-1", "Spam"), 0);
        harness.processElement2(feedback("m-1", "spam"), 0);

        assertThat(join.metrics().unknownLabel.getCount()).isEqualTo(1);
        assertThat(join.metrics().joined.getCount()).isEqualTo(1);
        assertThat(join.metrics().repeated.getCount()).isEqualTo(1);
        assertThat(join.metrics().version("spam", 3).labeled.getCount()).isZero();
    }

    @Test
    void keysNeverConfuseOneModelAndIdWithAnother() {
        assertThat(FeedbackJoin.key("spam", "x/1")).isNotEqualTo(FeedbackJoin.key("spam/x", "1"));
        assertThat(FeedbackJoin.key("a", "b:c")).isNotEqualTo(FeedbackJoin.key("a:b", "c"));
        assertThat(new FeedbackJoin.AnswerKey().getKey(spamV3("m-1", "spam")))
                .isEqualTo(new FeedbackJoin.FeedbackKey().getKey(feedback("m-1", "ham")));
    }

    /** Judges {@code times} answers of {@code answered} whose feedback says {@code truth}. */
    private void judge(
            KeyedTwoInputStreamOperatorTestHarness<String, Answer, Feedback, Void> harness,
            String truth,
            String answered,
            int times)
            throws Exception {
        for (int i = 0; i < times; i++) {
            String id = truth + "-" + answered + "-" + i;
            harness.processElement1(spamV3(id, answered), 0);
            harness.processElement2(feedback(id, truth), 0);
        }
    }

    private KeyedTwoInputStreamOperatorTestHarness<String, Answer, Feedback, Void> create()
            throws Exception {
        join = new FeedbackJoin(TTL);
        var harness =
                new KeyedTwoInputStreamOperatorTestHarness<>(
                        new KeyedCoProcessOperator<>(join),
                        new FeedbackJoin.AnswerKey(),
                        new FeedbackJoin.FeedbackKey(),
                        Types.STRING);
        harnesses.add(harness);
        return harness;
    }

    private KeyedTwoInputStreamOperatorTestHarness<String, Answer, Feedback, Void> open(long now)
            throws Exception {
        var harness = create();
        harness.setProcessingTime(now);
        harness.open();
        return harness;
    }

    private static Answer spamV3(String id, String label) {
        return answer(id, 3, label);
    }

    private static Answer answer(String id, long version, String label) {
        return new Answer(id, "spam", version, label, new String[] {"ham", "spam", "eggs"}, 0);
    }

    private static Feedback feedback(String id, String label) {
        return new Feedback(id, "spam", label).from("sift-feedback", 0, 0, 0);
    }
}
