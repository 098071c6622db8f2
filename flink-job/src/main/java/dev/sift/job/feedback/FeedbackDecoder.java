package dev.sift.job.feedback;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sift.job.sink.DeadLetterCounters;
import dev.sift.job.sink.DeadLetters;
import dev.sift.job.sink.OutRecord;
import dev.sift.schemas.ErrorCode;
import dev.sift.schemas.RecordDecodingException;
import dev.sift.schemas.RequestCodec;
import dev.sift.serving.request.RawRecord;
import dev.sift.serving.request.RequestLimits;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Decodes the feedback topic, whose values are JSON objects:
 *
 * <pre>{@code
 * {"id": "m-1", "model": "spam", "label": "spam"}
 * }</pre>
 *
 * <p>{@code id}, {@code model} and {@code label} must be non-empty strings; other fields are
 * ignored, so a client may send more (who judged, when). The id is bounded as request ids are (a
 * longer one can match no answer), the model as request model names are, the label to {@link
 * #MAX_LABEL_LENGTH} characters. Anything else leaves through {@link #DEAD_LETTERS} with a code and
 * a reason: like requests, nothing a producer sends can fail the job.
 */
public final class FeedbackDecoder extends ProcessFunction<RawRecord, Feedback> {

    private static final long serialVersionUID = 1L;

    public static final OutputTag<OutRecord> DEAD_LETTERS =
            new OutputTag<>("feedback-dead-letters", TypeInformation.of(OutRecord.class));

    /** The longest label a feedback record may give; model labels are short names. */
    public static final int MAX_LABEL_LENGTH = 255;

    private final int maxIdLength;
    private final String deadLetterTopic;
    private transient DeadLetterCounters deadLetters;

    /**
     * @param maxIdLength the longest id accepted: the job's request limit, since feedback for a
     *     request the job refused matches nothing
     * @param deadLetterTopic where refused feedback is written
     */
    public FeedbackDecoder(int maxIdLength, String deadLetterTopic) {
        if (maxIdLength < 1) {
            throw new IllegalArgumentException(
                    "maxIdLength must be at least 1, not " + maxIdLength);
        }
        this.maxIdLength = maxIdLength;
        this.deadLetterTopic = deadLetterTopic;
    }

    /** A decoder accepting ids as long as the default request limit allows. */
    public FeedbackDecoder(String deadLetterTopic) {
        this(RequestLimits.DEFAULTS.maxIdLength(), deadLetterTopic);
    }

    @Override
    public void open(OpenContext openContext) {
        deadLetters = new DeadLetterCounters(getRuntimeContext().getMetricGroup());
    }

    @Override
    public void processElement(RawRecord raw, Context ctx, Collector<Feedback> out) {
        try {
            out.collect(
                    decode(raw.value).from(raw.topic, raw.partition, raw.offset, raw.timestamp));
        } catch (RecordDecodingException e) {
            reject(raw, e.code(), e.getMessage(), ctx);
        } catch (RuntimeException e) {
            // As in the request decoder: a bug here dead-letters the record, it does not loop the
            // job through restarts on it.
            reject(raw, ErrorCode.OTHER, "Unexpected " + e, ctx);
        }
    }

    /** Decodes one feedback value, or says in a {@link RecordDecodingException} what is wrong. */
    Feedback decode(byte[] value) throws RecordDecodingException {
        if (value == null || value.length == 0) {
            throw new RecordDecodingException(ErrorCode.UNDECODABLE, "Empty feedback value");
        }
        JsonNode root = RequestCodec.parseJson(value, "JSON feedback");
        if (!(root instanceof ObjectNode object)) {
            throw new RecordDecodingException(
                    ErrorCode.UNDECODABLE,
                    "Feedback must be a JSON object {\"id\", \"model\", \"label\"}");
        }
        String id = string(object, "id", ErrorCode.MISSING_ID);
        if (id.length() > maxIdLength) {
            throw new RecordDecodingException(
                    ErrorCode.ID_TOO_LONG,
                    "Feedback id has " + id.length() + " characters, over " + maxIdLength);
        }
        String model = string(object, "model", ErrorCode.UNDECODABLE);
        if (model.length() > RequestLimits.MAX_MODEL_NAME_LENGTH) {
            throw new RecordDecodingException(
                    ErrorCode.MODEL_LIST_TOO_LARGE,
                    "Feedback "
                            + id
                            + " names a model of "
                            + model.length()
                            + " characters, over "
                            + RequestLimits.MAX_MODEL_NAME_LENGTH);
        }
        String label = string(object, "label", ErrorCode.UNDECODABLE);
        if (label.length() > MAX_LABEL_LENGTH) {
            throw new RecordDecodingException(
                    ErrorCode.UNDECODABLE,
                    "Feedback "
                            + id
                            + " gives a label of "
                            + label.length()
                            + " characters, over "
                            + MAX_LABEL_LENGTH);
        }
        return new Feedback(id, model, label);
    }

    private static String string(ObjectNode object, String field, ErrorCode code)
            throws RecordDecodingException {
        JsonNode node = object.get(field);
        if (node == null || node.isNull()) {
            throw new RecordDecodingException(code, "Feedback has no \"" + field + "\"");
        }
        if (!node.isTextual()) {
            throw new RecordDecodingException(
                    code,
                    "Feedback field \"" + field + "\" must be a string, not " + node.getNodeType());
        }
        if (node.textValue().isEmpty()) {
            throw new RecordDecodingException(code, "Feedback field \"" + field + "\" is empty");
        }
        return node.textValue();
    }

    private void reject(RawRecord raw, ErrorCode code, String reason, Context ctx) {
        deadLetters.inc(code);
        ctx.output(DEAD_LETTERS, DeadLetters.of(raw, code, reason, null, deadLetterTopic));
    }
}
