package dev.sift.trainer.data;

/** A data file that cannot be used as it is; the message says why and what to fix. */
public final class DatasetException extends Exception {

    private static final long serialVersionUID = 1L;

    public DatasetException(String message) {
        super(message);
    }

    public DatasetException(String message, Throwable cause) {
        super(message, cause);
    }
}
