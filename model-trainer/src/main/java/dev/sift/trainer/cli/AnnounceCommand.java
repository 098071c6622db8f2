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
                "Tells running jobs to activate, roll back to, or retire a model version, or to"
                        + " try one beside the serving version (--shadow, --canary), on the"
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
            description =
                    "activate, roll-back, retire, stop-shadow or stop-canary (default"
                            + " ${DEFAULT-VALUE}). Activating the version on trial promotes it.")
    String action;

    @Option(
            names = "--shadow",
            description =
                    "Run the version as a shadow: beside the serving one on every request, its"
                            + " answers on the shadow topic and in metrics, never in results.")
    boolean shadow;

    @Option(
            names = "--canary",
            paramLabel = "PERCENT",
            description =
                    "Answer PERCENT of the model's requests (above 0, at most 100) with the"
                            + " version, picked by a stable hash of each record's key or id.")
    Double canary;

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
        ModelAction chosenAction = parseAction();
        if (registryOnly && Announcer.isTrial(chosenAction)) {
            throw new IllegalArgumentException(
                    "--registry-only records what serves; a trial ("
                            + chosenAction
                            + ") is for running jobs: leave out --registry-only");
        }
        ModelAnnouncement announcement =
                Announcer.announcement(models, bundle, chosenAction, canary, key, registryUri);
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
                "announced %s %s v%d%s%s on %s-%d@%d%n",
                announcement.getAction(),
                model,
                chosen,
                canary == null ? "" : " for " + canary + "% of requests",
                key == null ? "" : " (signed)",
                sent.topic(),
                sent.partition(),
                sent.offset());
        return 0;
    }

    private ModelAction parseAction() {
        ModelAction parsed =
                switch (action.toLowerCase(Locale.ROOT).replace('_', '-')) {
                    case "activate" -> ModelAction.ACTIVATE;
                    case "roll-back", "rollback" -> ModelAction.ROLL_BACK;
                    case "retire" -> ModelAction.RETIRE;
                    case "stop-shadow" -> ModelAction.STOP_SHADOW;
                    case "stop-canary" -> ModelAction.STOP_CANARY;
                    default ->
                            throw new IllegalArgumentException(
                                    "Unknown --action '"
                                            + action
                                            + "'; use activate, roll-back, retire, stop-shadow or"
                                            + " stop-canary");
                };
        if (shadow && canary != null) {
            throw new IllegalArgumentException(
                    "--shadow and --canary are two trials: announce them one at a time");
        }
        if (shadow || canary != null) {
            if (parsed != ModelAction.ACTIVATE) {
                throw new IllegalArgumentException(
                        (shadow ? "--shadow" : "--canary")
                                + " is an action of its own: leave out --action "
                                + action);
            }
            if (canary != null && !(canary > 0 && canary <= 100)) {
                throw new IllegalArgumentException(
                        "--canary takes a percent above 0 and at most 100, not " + canary);
            }
            return shadow ? ModelAction.SHADOW : ModelAction.CANARY;
        }
        return parsed;
    }
}
