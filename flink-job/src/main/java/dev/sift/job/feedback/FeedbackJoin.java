package dev.sift.job.feedback;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.annotation.VisibleForTesting;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Judges the job's answers by the feedback given on them, keyed by {@link #key(String, String)}
 * (model and request id). Input 1 carries the answers, input 2 the decoded feedback; the verdicts
 * go to {@link FeedbackMetrics}, so nothing is emitted. One request can have answers of several
 * versions of a model (the serving one and a shadow): the feedback judges each of them, so the
 * shadow's live accuracy stands beside the serving version's, on the same requests.
 *
 * <p>The rules:
 *
 * <ul>
 *   <li>The first feedback for a model and id decides: it judges every version's answer to that
 *       request, once each, those given before it and those that come after it within the TTL.
 *       Later feedback for the same model and id counts as {@code feedbackRepeated}; a user who
 *       changes their mind is not heard, because counting both would count one answer twice.
 *   <li>Feedback that arrives before its answer waits for it, up to the TTL, and is judged when the
 *       answer comes; a second feedback meanwhile counts as repeated.
 *   <li>An answer waits for its feedback up to the TTL, from when it arrived. Feedback that arrives
 *       after that finds nothing, waits out its own TTL and counts as {@code feedbackUnmatched},
 *       never judged.
 *   <li>An answer given again by the same version for the same model and id (a request the producer
 *       sent twice) replaces the one waiting, and restarts its TTL, while it is not judged; once it
 *       is, later ones change nothing.
 *   <li>A first feedback whose label the answering version does not have is that answer's feedback
 *       all the same (later ones are repeats), but counts as {@code feedbackUnknownLabel} instead
 *       of in the version's accuracy.
 * </ul>
 *
 * <p>State per key: the answers waiting for feedback, by version; the deciding feedback, once it
 * came; the versions judged (kept for the rest of the TTL, so repeats are recognized); and the time
 * all of it expires. A processing-time timer at that time clears the key, so the state is bounded
 * by the TTL and cleared the same way every run; Flink's state TTL, set somewhat longer, is only a
 * backstop for an entry the timers never reach. State and timers are checkpointed, and so are the
 * metrics' counts ({@link FeedbackMetrics#tallies()}): after a failure, neither a judgement nor a
 * count is lost or made twice.
 *
 * <pre>{@code
 * answers.keyBy(new FeedbackJoin.AnswerKey(), Types.STRING)
 *         .connect(feedback.keyBy(new FeedbackJoin.FeedbackKey(), Types.STRING))
 *         .process(new FeedbackJoin(FeedbackJoin.DEFAULT_TTL));
 * }</pre>
 */
public final class FeedbackJoin extends KeyedCoProcessFunction<String, Answer, Feedback, Void>
        implements CheckpointedFunction {

    private static final long serialVersionUID = 1L;

    /** How long an answer waits for its feedback, and feedback for its answer, by default. */
    public static final Duration DEFAULT_TTL = Duration.ofDays(1);

    /**
     * How much longer Flink's state TTL is than the timers': the timers clear a key first, so the
     * state TTL never hides an entry a timer is about to read (feedback it must count unmatched).
     */
    static final Duration STATE_TTL_MARGIN = Duration.ofHours(1);

    private final long ttlMillis;

    /** Answers not judged yet, by version. */
    private transient MapState<Long, Answer> answers;

    /** The first feedback on this key, which judges every version's answer. */
    private transient ValueState<Feedback> decision;

    /** The versions whose answer was judged. */
    private transient MapState<Long, Boolean> judged;

    private transient ValueState<Long> expiresAt;
    private transient ListState<FeedbackTally> tallies;
    private transient FeedbackMetrics metrics;

    /**
     * @param ttl how long an answer waits for feedback and feedback for its answer
     */
    public FeedbackJoin(Duration ttl) {
        if (ttl == null || ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("The feedback TTL must be positive, not " + ttl);
        }
        this.ttlMillis = ttl.toMillis();
    }

    /**
     * The key of the answers of {@code model} to request {@code id}, and of the feedback on them.
     * The model's length comes first, so no model name and id can be mistaken for another pair.
     */
    public static String key(String model, String id) {
        return model.length() + ":" + model + "/" + id;
    }

    /** Keys answers by model and request id. */
    public static final class AnswerKey implements KeySelector<Answer, String> {
        private static final long serialVersionUID = 1L;

        @Override
        public String getKey(Answer answer) {
            return key(answer.model, answer.id);
        }
    }

    /** Keys feedback by model and request id. */
    public static final class FeedbackKey implements KeySelector<Feedback, String> {
        private static final long serialVersionUID = 1L;

        @Override
        public String getKey(Feedback feedback) {
            return key(feedback.model, feedback.id);
        }
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        // Called before open(), on a fresh start as on a restore.
        metrics = new FeedbackMetrics(getRuntimeContext().getMetricGroup());
        tallies =
                context.getOperatorStateStore()
                        .getListState(
                                new ListStateDescriptor<>(
                                        "sift-feedback-tallies", FeedbackTally.class));
        if (context.isRestored()) {
            metrics.restore(tallies.get());
        }
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        tallies.update(metrics.tallies());
    }

    @Override
    public void open(OpenContext openContext) {
        StateTtlConfig backstop =
                StateTtlConfig.newBuilder(Duration.ofMillis(ttlMillis).plus(STATE_TTL_MARGIN))
                        .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
                        .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
                        .build();
        MapStateDescriptor<Long, Answer> answersDescriptor =
                new MapStateDescriptor<>("sift-feedback-answers", Long.class, Answer.class);
        answersDescriptor.enableTimeToLive(backstop);
        answers = getRuntimeContext().getMapState(answersDescriptor);
        decision =
                getRuntimeContext()
                        .getState(withTtl("sift-feedback-decision", Feedback.class, backstop));
        MapStateDescriptor<Long, Boolean> judgedDescriptor =
                new MapStateDescriptor<>("sift-feedback-judged", Long.class, Boolean.class);
        judgedDescriptor.enableTimeToLive(backstop);
        judged = getRuntimeContext().getMapState(judgedDescriptor);
        expiresAt =
                getRuntimeContext()
                        .getState(withTtl("sift-feedback-expires-at", Long.class, backstop));
    }

    private static <T> ValueStateDescriptor<T> withTtl(
            String name, Class<T> type, StateTtlConfig ttl) {
        ValueStateDescriptor<T> descriptor = new ValueStateDescriptor<>(name, type);
        descriptor.enableTimeToLive(ttl);
        return descriptor;
    }

    @Override
    public void processElement1(Answer given, Context ctx, Collector<Void> out) throws Exception {
        if (judged.contains(given.version)) {
            return; // a replayed request answered again: this version's answer was judged already
        }
        Feedback decided = decision.value();
        if (decided != null) {
            judge(given, decided);
        } else {
            answers.put(given.version, given);
        }
        // From now on the key holds the answer or its judgement: either lives a TTL from here.
        expireAt(ctx.timerService().currentProcessingTime() + ttlMillis, ctx);
    }

    @Override
    public void processElement2(Feedback feedback, Context ctx, Collector<Void> out)
            throws Exception {
        metrics.in.inc();
        if (decision.value() != null) {
            metrics.repeated.inc();
            return;
        }
        decision.update(feedback);
        List<Answer> given = new ArrayList<>();
        answers.values().forEach(given::add);
        if (!given.isEmpty()) {
            answers.clear();
            for (Answer answer : given) {
                judge(answer, feedback); // the key keeps its answers' expiry time
            }
            return;
        }
        expireAt(ctx.timerService().currentProcessingTime() + ttlMillis, ctx);
    }

    private void judge(Answer given, Feedback feedback) throws Exception {
        judged.put(given.version, true);
        if (given.knows(feedback.label)) {
            metrics.judged(given, feedback.label);
        } else {
            metrics.joined.inc();
            metrics.unknownLabel.inc();
        }
    }

    /** Moves the key's expiry to {@code time}: one timer per key, so timers stay as few as keys. */
    private void expireAt(long time, Context ctx) throws Exception {
        Long previous = expiresAt.value();
        if (previous != null) {
            ctx.timerService().deleteProcessingTimeTimer(previous);
        }
        expiresAt.update(time);
        ctx.timerService().registerProcessingTimeTimer(time);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<Void> out) throws Exception {
        Long deadline = expiresAt.value();
        if (deadline == null || deadline != timestamp) {
            return; // not the key's expiry now: moving it deletes the old timer, this guards the
            // rest
        }
        if (decision.value() != null && judged.isEmpty()) {
            metrics.unmatched.inc();
        }
        answers.clear();
        decision.clear();
        judged.clear();
        expiresAt.clear();
    }

    @VisibleForTesting
    FeedbackMetrics metrics() {
        return metrics;
    }
}
