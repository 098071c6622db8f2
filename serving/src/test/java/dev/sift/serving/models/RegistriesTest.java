package dev.sift.serving.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sift.model.bundle.BundleException;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.model.registry.RegistryReader;
import dev.sift.schemas.ModelAction;
import dev.sift.schemas.ModelAnnouncement;
import java.net.URI;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RegistriesTest {

    private static final Path ROOT = Path.of("/srv/sift/registry");

    @Test
    void readsPathsAndFileUrisInPlaceAndOtherSchemesThroughFlink() {
        assertThat(Registries.open("/srv/sift/registry")).isInstanceOf(ModelRegistry.class);
        assertThat(Registries.open("registry")).isInstanceOf(ModelRegistry.class);
        assertThat(Registries.open("file:///srv/sift/registry"))
                .isInstanceOf(ModelRegistry.class)
                .extracting(RegistryReader::location)
                .isEqualTo(URI.create("file:///srv/sift/registry"));
        RegistryReader s3 = Registries.open("s3://models/registry");
        assertThat(s3).isInstanceOf(FlinkFileSystemRegistry.class);
        assertThat(s3.versionUri("spam", 3)).isEqualTo(URI.create("s3://models/registry/spam/3"));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "/srv/sift/registry/spam/3",
                "/srv/sift/registry/spam/3/",
                "/srv/sift/registry/./spam/3",
                "file:///srv/sift/registry/spam/3/",
                "file:/srv/sift/registry/spam/3"
            })
    void acceptsTheVersionsFolderInTheRegistryHoweverItIsSpelled(String bundleUri) {
        assertThatCode(
                        () ->
                                Registries.requireInRegistry(
                                        ModelRegistry.at(ROOT), announcement(bundleUri)))
                .doesNotThrowAnyException();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "/srv/sift/other/spam/3",
                "/srv/sift/registry/spam/4",
                "/srv/sift/registry/ham/3",
                "/srv/sift/registry/spam/3/../../../evil/spam/3",
                "s3://models/registry/spam/3",
                "",
                "::not a uri::"
            })
    void refusesAnyOtherFolder(String bundleUri) {
        assertThatThrownBy(
                        () ->
                                Registries.requireInRegistry(
                                        ModelRegistry.at(ROOT), announcement(bundleUri)))
                .isInstanceOf(BundleException.class)
                .hasMessageContaining("is not spam v3 in this job's registry");
    }

    @Test
    void comparesRemoteRegistriesByUri() throws Exception {
        RegistryReader s3 = Registries.open("s3://models/registry/");
        Registries.requireInRegistry(s3, announcement("s3://models/registry/spam/3/"));
        assertThatThrownBy(
                        () ->
                                Registries.requireInRegistry(
                                        s3, announcement("s3://models/registry-b/spam/3")))
                .isInstanceOf(BundleException.class);
    }

    private static ModelAnnouncement announcement(String bundleUri) {
        return ModelAnnouncement.newBuilder()
                .setName("spam")
                .setVersion(3)
                .setAction(ModelAction.ACTIVATE)
                .setBundleUri(bundleUri)
                .setManifestSha256("0".repeat(64))
                .setAnnouncedAt(Instant.now())
                .build();
    }
}
