package dev.sift.model.bundle;

import java.io.IOException;

/**
 * A bundle on disk failed verification: a file's hash, a shape, or the manifest itself does not
 * check out. The message names the bundle and the offending file or field.
 */
public class BundleException extends IOException {

    private static final long serialVersionUID = 1L;

    public BundleException(String message) {
        super(message);
    }

    public BundleException(String message, Throwable cause) {
        super(message, cause);
    }
}
