package dev.sift.job;

import dev.sift.job.decode.DecodeFunction;
import dev.sift.job.feedback.FeedbackPipeline;
import dev.sift.job.infer.InferenceOperator;
import dev.sift.job.infer.InferenceSettings;
import dev.sift.job.sink.OutRecord;
import dev.sift.serving.request.ClassifyRequest;
import dev.sift.serving.request.RawRecord;
import dev.sift.serving.request.RequestLimits;
import java.io.IOException;
import java.time.Duration;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;

/**
 * The Sift dataflow, built from the streams it reads and returning the one it writes, so {@link
 * SiftJob} wires it to Kafka and tests wire it to whatever they like. Building it reads the
 * registry's recorded announcements (see {@link InferenceOperator}):
 *
 * <pre>
 * requests ─ decode ─┬─ infer ─┬─ results + dead letters ─▶ sink
 *                    │    ▲    │
 *   bad records ─────┘    │    │
 * announcements ─ broadcast    │
 *                              └ (one stream of OutRecords, one transactional sink)
 * </pre>
 *
 * <p>With feedback, every answer (shadow versions' too) also goes, keyed by model and id, to the
 * feedback join ({@link FeedbackPipeline}), whose undecodable records join the dead letters.
 *
 * <pre>{@code
 * DataStream<OutRecord> out =
 *         SiftPipeline.build(requests, announcements, settings, RequestLimits.DEFAULTS);
 * out.sinkTo(kafkaSink);
 * }</pre>
 */
public final class SiftPipeline {

    private SiftPipeline() {}

    public static DataStream<OutRecord> build(
            DataStream<RawRecord> requests,
            DataStream<byte[]> announcements,
            InferenceSettings inference,
            RequestLimits limits)
            throws IOException {
        return build(requests, announcements, null, Duration.ZERO, inference, limits);
    }

    /**
     * As above, joining {@code feedback} (null for none) to the answers, each kept for {@code
     * feedbackTtl}; {@code inference} must then emit its answers.
     */
    public static DataStream<OutRecord> build(
            DataStream<RawRecord> requests,
            DataStream<byte[]> announcements,
            DataStream<RawRecord> feedback,
            Duration feedbackTtl,
            InferenceSettings inference,
            RequestLimits limits)
            throws IOException {
        if ((feedback != null) != inference.emitAnswers()) {
            throw new IllegalArgumentException(
                    "Feedback needs the answers, and the answers are for feedback: emitAnswers "
                            + inference.emitAnswers()
                            + " with "
                            + (feedback == null ? "no feedback stream" : "a feedback stream"));
        }
        SingleOutputStreamOperator<ClassifyRequest> decoded =
                requests.process(new DecodeFunction(limits, inference.deadLetterTopic()))
                        .name("decode")
                        .uid("sift-decode");
        SingleOutputStreamOperator<OutRecord> classified =
                decoded.connect(announcements.broadcast())
                        .transform(
                                "infer",
                                TypeInformation.of(OutRecord.class),
                                new InferenceOperator(inference))
                        .uid("sift-infer");
        DataStream<OutRecord> out =
                classified.union(decoded.getSideOutput(DecodeFunction.DEAD_LETTERS));
        if (feedback == null) {
            return out;
        }
        return out.union(
                FeedbackPipeline.attach(
                        classified.getSideOutput(InferenceOperator.ANSWERS),
                        feedback,
                        feedbackTtl,
                        inference.deadLetterTopic(),
                        limits));
    }
}
