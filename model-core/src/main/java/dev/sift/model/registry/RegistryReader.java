package dev.sift.model.registry;

import dev.sift.model.bundle.EncoderBundle;
import java.io.IOException;
import java.net.URI;
import java.util.List;
import java.util.Optional;

/**
 * What a serving job reads from a registry: the models and versions in it, each model's recorded
 * announcement, and verified versions and encoders. {@link ModelRegistry} reads a local folder in
 * place; the streaming job also reads registries on any Flink filesystem (s3://, hdfs://) through
 * an implementation that copies what it opens to local disk and verifies it there.
 */
public interface RegistryReader {

    /** Where the registry lives, as its users name it. */
    URI location();

    /** Model names, sorted. */
    List<String> models() throws IOException;

    /** Published versions of {@code name}, ascending. */
    List<Long> versions(String name) throws IOException;

    /** The announcement last recorded for {@code name}, if any. */
    Optional<byte[]> recordedAnnouncement(String name) throws IOException;

    /** Opens and verifies one version (every file hashed, shapes checked). */
    ModelBundle open(String name, long version) throws IOException;

    /** An encoder in local files, as TensorFlow needs it; its files are hashed before it loads. */
    EncoderBundle encoder(String contentHash) throws IOException;

    /** The folder of one version: what a model announcement's {@code bundleUri} names. */
    URI versionUri(String name, long version);
}
