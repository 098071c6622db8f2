package dev.sift.trainer.cli;

import dev.sift.model.registry.ModelBundle;
import dev.sift.schemas.AnnouncementSignatures;
import dev.sift.serving.models.LoadedModel;
import dev.sift.serving.models.ModelLoader;
import dev.sift.serving.models.RegistryVersions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Which published version {@code predict} and {@code evaluate} load, chosen as the SQL provider's
 * {@code 'version'} option chooses, and loaded through the job's own loader.
 */
final class ServedVersionOptions {

    @Mixin RegistryOption registry;

    @Option(names = "--model", required = true, description = "Model name, e.g. spam.")
    String model;

    @Option(
            names = "--version",
            defaultValue = RegistryVersions.ANNOUNCED,
            description =
                    "announced (what the job serves), latest, or a version number (default"
                            + " ${DEFAULT-VALUE}).")
    String version;

    @Option(
            names = "--public-key",
            description = "PEM public key that announcements must be signed with.")
    Path publicKey;

    /** The chosen version: its verified bundle, and the same loaded to serve. */
    record Served(ModelBundle bundle, LoadedModel model) implements AutoCloseable {
        @Override
        public void close() {
            model.close();
        }
    }

    /** Opens, verifies and loads the chosen version; the caller closes it. */
    Served load() throws IOException {
        ModelLoader loader = new ModelLoader(registry.open());
        ModelBundle bundle =
                RegistryVersions.open(
                        loader,
                        model,
                        version,
                        announcementKey(),
                        new RegistryVersions.OptionNames("--public-key", "--version"));
        return new Served(bundle, loader.load(bundle));
    }

    private PublicKey announcementKey() throws IOException {
        if (publicKey == null) {
            return null;
        }
        try {
            return AnnouncementSignatures.publicKey(
                    Files.readString(publicKey, StandardCharsets.US_ASCII), publicKey.toString());
        } catch (GeneralSecurityException e) {
            throw new IOException("The key in " + publicKey + " is unreadable: " + e.getMessage());
        }
    }
}
