package dev.sift.model;

import java.nio.file.Path;

/**
 * Sift's per-user cache folder: extracted native libraries and imported encoders. {@code
 * -Dsift.home} wins over the {@code SIFT_HOME} environment variable, which wins over {@code
 * ~/.sift}.
 */
public final class SiftHome {

    public static final String PROPERTY = "sift.home";
    public static final String ENV = "SIFT_HOME";

    private SiftHome() {}

    public static Path dir() {
        String configured = System.getProperty(PROPERTY);
        if (configured == null || configured.isBlank()) {
            configured = System.getenv(ENV);
        }
        if (configured == null || configured.isBlank()) {
            return Path.of(System.getProperty("user.home"), ".sift");
        }
        return Path.of(configured);
    }
}
