package dev.sift.serving.request;

import dev.sift.schemas.ErrorCode;
import dev.sift.schemas.PairRequest;
import dev.sift.schemas.RecordDecodingException;
import dev.sift.schemas.RequestCodec;
import dev.sift.schemas.TextRequest;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;

/**
 * Turns a raw Kafka record into a {@link ClassifyRequest} or says, with a dead-letter code, why it
 * cannot be one: undecodable bytes, an unknown schema, no id, an id over the length limit, blank
 * text, a missing pair half, text over the byte limit, text that was not valid UTF-8, attributes
 * over their byte limit, or more model names than allowed. A model named twice is answered once.
 * Which models exist is not known here; the inference operator checks that.
 */
public final class RequestValidator implements Serializable {

    private static final long serialVersionUID = 1L;

    private final RequestLimits limits;
    private transient RequestCodec codec;

    public RequestValidator(RequestLimits limits) {
        this.limits = limits;
    }

    public ClassifyRequest validate(RawRecord raw) throws RecordDecodingException {
        if (codec == null) {
            codec = new RequestCodec();
        }
        SpecificRecord decoded = codec.decode(raw.value);
        ClassifyRequest request = new ClassifyRequest();
        request.topic = raw.topic;
        request.partition = raw.partition;
        request.offset = raw.offset;
        request.originalKey = raw.key;
        request.originalValue = raw.value;
        // The id first: every later message quotes it, so it must be present and short.
        request.id =
                decoded instanceof TextRequest text
                        ? text.getId()
                        : ((PairRequest) decoded).getId();
        if (request.id == null || request.id.isBlank()) {
            throw new RecordDecodingException(ErrorCode.MISSING_ID, "The request has a blank id");
        }
        if (request.id.length() > limits.maxIdLength()) {
            throw new RecordDecodingException(
                    ErrorCode.ID_TOO_LONG,
                    "The request id has "
                            + request.id.length()
                            + " characters; the limit is "
                            + limits.maxIdLength()
                            + " (it starts \""
                            + request.id.substring(0, Math.min(32, limits.maxIdLength()))
                            + "\")");
        }
        Instant eventTime;
        if (decoded instanceof TextRequest text) {
            request.text = requireText(text.getText(), "text", text.getId(), ErrorCode.EMPTY_TEXT);
            copy(text.getModels(), text.getAttributes(), request);
            eventTime = text.getEventTime();
        } else {
            PairRequest pair = (PairRequest) decoded;
            request.text =
                    requireText(
                            pair.getTextA(), "textA", pair.getId(), ErrorCode.MISSING_PAIR_HALF);
            request.textB =
                    requireText(
                            pair.getTextB(), "textB", pair.getId(), ErrorCode.MISSING_PAIR_HALF);
            copy(pair.getModels(), pair.getAttributes(), request);
            eventTime = pair.getEventTime();
        }
        int bytes =
                utf8Length(request.text) + (request.textB == null ? 0 : utf8Length(request.textB));
        if (bytes > limits.maxTextBytes()) {
            throw new RecordDecodingException(
                    ErrorCode.TEXT_TOO_LONG,
                    "Request "
                            + request.id
                            + " carries "
                            + bytes
                            + " bytes of text; the limit is "
                            + limits.maxTextBytes());
        }
        request.eventTimeMillis = eventTime != null ? eventTime.toEpochMilli() : raw.timestamp;
        return request;
    }

    private static String requireText(String text, String field, String id, ErrorCode code)
            throws RecordDecodingException {
        if (text == null || text.isBlank()) {
            throw new RecordDecodingException(
                    code, "Request " + id + " has a blank \"" + field + "\"");
        }
        return text;
    }

    private void copy(List<String> models, Map<String, String> attributes, ClassifyRequest request)
            throws RecordDecodingException {
        request.models = new ArrayList<>(new LinkedHashSet<>(models));
        if (request.models.size() > limits.maxModels()) {
            throw new RecordDecodingException(
                    ErrorCode.MODEL_LIST_TOO_LARGE,
                    "Request "
                            + request.id
                            + " names "
                            + request.models.size()
                            + " models; the limit is "
                            + limits.maxModels());
        }
        for (String model : request.models) {
            if (model.length() > RequestLimits.MAX_MODEL_NAME_LENGTH) {
                throw new RecordDecodingException(
                        ErrorCode.MODEL_LIST_TOO_LARGE,
                        "Request "
                                + request.id
                                + " names a model of "
                                + model.length()
                                + " characters; names have at most "
                                + RequestLimits.MAX_MODEL_NAME_LENGTH);
            }
        }
        long attributeBytes = 0;
        for (Map.Entry<String, String> attribute : attributes.entrySet()) {
            attributeBytes += utf8Length(attribute.getKey()) + utf8Length(attribute.getValue());
        }
        if (attributeBytes > limits.maxAttributesBytes()) {
            throw new RecordDecodingException(
                    ErrorCode.ATTRIBUTES_TOO_LARGE,
                    "Request "
                            + request.id
                            + " carries "
                            + attributeBytes
                            + " bytes of attributes; the limit is "
                            + limits.maxAttributesBytes());
        }
        request.attributes = new HashMap<>(attributes);
    }

    private static int utf8Length(String text) {
        return text.getBytes(StandardCharsets.UTF_8).length;
    }
}
