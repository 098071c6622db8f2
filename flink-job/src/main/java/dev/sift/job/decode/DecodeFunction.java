package dev.sift.job.decode;

import dev.sift.job.sink.DeadLetterCounters;
import dev.sift.job.sink.DeadLetters;
import dev.sift.job.sink.OutRecord;
import dev.sift.job.util.ThrottledLog;
import dev.sift.schemas.ErrorCode;
import dev.sift.schemas.RecordDecodingException;
import dev.sift.serving.request.ClassifyRequest;
import dev.sift.serving.request.RawRecord;
import dev.sift.serving.request.RequestLimits;
import dev.sift.serving.request.RequestValidator;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Validates raw requests. Good ones continue as {@link ClassifyRequest}; bad ones leave through the
 * {@link #DEAD_LETTERS} side output with a code and a reason. Nothing a producer sends can fail
 * this function: that is what keeps bad input from restarting the job.
 */
public final class DecodeFunction extends ProcessFunction<RawRecord, ClassifyRequest> {

    private static final long serialVersionUID = 1L;

    public static final OutputTag<OutRecord> DEAD_LETTERS =
            new OutputTag<>(
                    "dead-letters",
                    org.apache.flink.api.common.typeinfo.TypeInformation.of(OutRecord.class));

    private static final Logger LOG = LoggerFactory.getLogger(DecodeFunction.class);

    private final RequestValidator validator;
    private final String deadLetterTopic;
    private transient DeadLetterCounters deadLetters;
    private transient ThrottledLog unexpected;

    public DecodeFunction(RequestLimits limits, String deadLetterTopic) {
        this.validator = new RequestValidator(limits);
        this.deadLetterTopic = deadLetterTopic;
    }

    @Override
    public void open(OpenContext openContext) {
        deadLetters = new DeadLetterCounters(getRuntimeContext().getMetricGroup());
        unexpected = new ThrottledLog(LOG, 60_000);
    }

    @Override
    public void processElement(RawRecord raw, Context ctx, Collector<ClassifyRequest> out) {
        try {
            out.collect(validator.validate(raw));
        } catch (RecordDecodingException e) {
            reject(raw, e.code(), e.getMessage(), ctx);
        } catch (RuntimeException e) {
            // A decoder bug must not take the job down with the record that triggered it, nor
            // hide: the dead letter says what happened, the log says where.
            unexpected.error(
                    "Unexpected failure decoding "
                            + raw.topic
                            + "-"
                            + raw.partition
                            + "@"
                            + raw.offset
                            + "; dead-lettered as OTHER",
                    e);
            reject(raw, ErrorCode.OTHER, "Unexpected " + e, ctx);
        }
    }

    private void reject(RawRecord raw, ErrorCode code, String reason, Context ctx) {
        deadLetters.inc(code);
        ctx.output(DEAD_LETTERS, DeadLetters.of(raw, code, reason, null, deadLetterTopic));
    }
}
