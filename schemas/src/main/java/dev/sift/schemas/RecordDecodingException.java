package dev.sift.schemas;

/**
 * A record could not be turned into a Sift message. Carries the dead-letter code and a reason a
 * person can act on; the streaming job routes the original bytes to the dead-letter topic with
 * both.
 */
public final class RecordDecodingException extends Exception {

    private static final long serialVersionUID = 1L;

    private final ErrorCode code;

    public RecordDecodingException(ErrorCode code, String reason) {
        super(reason);
        this.code = code;
    }

    public RecordDecodingException(ErrorCode code, String reason, Throwable cause) {
        super(reason, cause);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }
}
