package dev.sift.trainer.cli;

import dev.sift.model.registry.ModelBundle;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.schemas.AnnouncementSignatures;
import dev.sift.schemas.ModelAction;
import dev.sift.schemas.ModelAnnouncement;
import dev.sift.trainer.publish.Announcer;
import java.net.URI;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
        name = "announce",
        description =
                "Tells running jobs to activate, roll back to, or retire a model version, on the"
                        + " model-announcement topic.")
final class AnnounceCommand implements Callable<Integer> {

    @Mixin HelpOption help;

    @Mixin RegistryOption registry;

    @Mixin KafkaOptions kafka;

    @Option(names = "--model", required = true, description = "Model name.")
    String model;

    @Option(names = "--version", description = "Version (default: the latest).")
    Long version;

    @Option(
            names = "--action",
            defaultValue = "activate",
            description = "activate, roll-back or retire (default ${DEFAULT-VALUE}).")
    String action;

    @Option(
            names = "--topic",
            defaultValue = "sift.models",
            description = "Announcement topic (default ${DEFAULT-VALUE}).")
    String topic;

    @Option(names = "--signing-key", description = "Ed25519 private key (PKCS#8 PEM) to sign with.")
    Path signingKey;

    @Option(
            names = "--registry-uri",
            description =
                    "The registry as the jobs read it (their sift.registry), when that is not"
                            + " --registry: e.g. s3://models/registry, after copying the folder to"
                            + " that bucket. Announcements name the version there; a job refuses"
                            + " one that names a folder outside its registry.")
    URI registryUri;

    @Option(
            names = "--registry-only",
            description =
                    "Record the announcement in the registry only, for jobs that start later;"
                            + " send nothing to Kafka (a first version, before any job runs).")
    boolean registryOnly;

    @Override
    public Integer call() throws Exception {
        ModelRegistry models = registry.open();
        long chosen =
                version != null
                        ? version
                        : models.latestVersion(model)
                                .orElseThrow(
                                        () ->
                                                new IllegalArgumentException(
                                                        "No version of '"
                                                                + model
                                                                + "' in "
                                                                + models.root()));
        ModelBundle bundle = models.open(model, chosen);
        PrivateKey key =
                signingKey == null ? null : AnnouncementSignatures.readPrivateKey(signingKey);
        ModelAnnouncement announcement =
                Announcer.announcement(models, bundle, parseAction(), key, registryUri);
        if (registryOnly) {
            Announcer.record(models, announcement);
            System.out.printf(
                    "recorded %s %s v%d%s in %s; jobs started from now on obey it%n",
                    announcement.getAction(),
                    model,
                    chosen,
                    key == null ? "" : " (signed)",
                    models.root());
            return 0;
        }
        var sent = Announcer.announce(models, announcement, topic, kafka.properties());
        System.out.printf(
                "announced %s %s v%d%s on %s-%d@%d%n",
                announcement.getAction(),
                model,
                chosen,
                key == null ? "" : " (signed)",
                sent.topic(),
                sent.partition(),
                sent.offset());
        return 0;
    }

    private ModelAction parseAction() {
        return switch (action.toLowerCase(Locale.ROOT).replace('_', '-')) {
            case "activate" -> ModelAction.ACTIVATE;
            case "roll-back", "rollback" -> ModelAction.ROLL_BACK;
            case "retire" -> ModelAction.RETIRE;
            default ->
                    throw new IllegalArgumentException(
                            "Unknown --action '" + action + "'; use activate, roll-back or retire");
        };
    }
}
