package dev.sift.schemas;

/**
 * Kafka record headers the job puts on every result and dead letter, in either {@link
 * OutputFormat}, so consumers can route or filter without decoding the value. Values are UTF-8
 * text; a version is written in decimal.
 */
public final class OutputHeaders {

    /** The model that produced a result. */
    public static final String MODEL = "sift.model";

    /** That model's registry version, in decimal. */
    public static final String MODEL_VERSION = "sift.model-version";

    /** Which stage produced a result: {@code encoder} or {@code ngram} (a cascade's first). */
    public static final String STAGE = "sift.stage";

    /** The request's id; on a dead letter only when the record decoded far enough to have one. */
    public static final String REQUEST_ID = "sift.request-id";

    /** A dead letter's {@link ErrorCode}. */
    public static final String ERROR_CODE = "sift.error-code";

    private OutputHeaders() {}
}
