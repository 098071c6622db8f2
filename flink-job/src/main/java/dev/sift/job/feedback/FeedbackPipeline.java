package dev.sift.job.feedback;

import dev.sift.job.sink.OutRecord;
import dev.sift.serving.request.RawRecord;
import dev.sift.serving.request.RequestLimits;
import java.time.Duration;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

/**
 * The feedback branch of the dataflow: decodes the feedback topic's records, joins them to the
 * answers the job gave and publishes the verdicts as metrics ({@link FeedbackMetrics}); refused
 * feedback comes back as dead letters, for the job's one sink:
 *
 * <pre>
 * answers ──────────────── key (model, id) ─┐
 *                                           join ─▶ metrics (discarding sink)
 * feedback ─ decode ─┬──── key (model, id) ─┘
 *                    └─ dead letters ─▶ returned
 * </pre>
 *
 * <pre>{@code
 * DataStream<OutRecord> refused =
 *         FeedbackPipeline.attach(answers, feedbackRecords, FeedbackJoin.DEFAULT_TTL, deadLetterTopic);
 * results.union(refused).sinkTo(kafkaSink);
 * }</pre>
 */
public final class FeedbackPipeline {

    private FeedbackPipeline() {}

    /**
     * As {@link #attach(DataStream, DataStream, Duration, String, RequestLimits)}, default limits.
     */
    public static DataStream<OutRecord> attach(
            DataStream<Answer> answers,
            DataStream<RawRecord> feedbackRecords,
            Duration ttl,
            String deadLetterTopic) {
        return attach(answers, feedbackRecords, ttl, deadLetterTopic, RequestLimits.DEFAULTS);
    }

    /**
     * Attaches the feedback join to {@code answers} and {@code feedbackRecords} and returns the
     * dead letters of the feedback that could not be decoded.
     *
     * @param ttl how long an answer waits for feedback, and feedback for its answer
     * @param limits the job's request limits: feedback ids are held to the same length
     */
    public static DataStream<OutRecord> attach(
            DataStream<Answer> answers,
            DataStream<RawRecord> feedbackRecords,
            Duration ttl,
            String deadLetterTopic,
            RequestLimits limits) {
        SingleOutputStreamOperator<Feedback> feedback =
                feedbackRecords
                        .process(new FeedbackDecoder(limits.maxIdLength(), deadLetterTopic))
                        .name("decode-feedback")
                        .uid("sift-feedback-decode");
        answers.keyBy(new FeedbackJoin.AnswerKey(), Types.STRING)
                .connect(feedback.keyBy(new FeedbackJoin.FeedbackKey(), Types.STRING))
                .process(new FeedbackJoin(ttl), Types.VOID)
                .name("join-feedback")
                .uid("sift-feedback-join")
                .sinkTo(new DiscardingSink<>())
                .name("feedback-verdicts")
                .uid("sift-feedback-discard");
        return feedback.getSideOutput(FeedbackDecoder.DEAD_LETTERS);
    }
}
