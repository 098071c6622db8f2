package dev.sift.testing.kafka;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A KRaft cluster of real Kafka broker processes, started from the jars Maven resolved for this
 * module ({@code broker-classpath.txt}, written at build time by the dependency plugin) with
 * Kafka's own entry points: {@code kafka.tools.StorageTool format}, then {@code kafka.Kafka
 * server.properties}. Every node is broker and controller ({@code
 * process.roles=broker,controller}), listens on 127.0.0.1 only and keeps its data in its own
 * folder, so a node can be stopped, killed with {@code kill -9} and started again on the same data,
 * as Kafka's own system tests bounce brokers.
 *
 * <p>With three nodes: a controller quorum of three, replication factor 3 for every topic (internal
 * ones included) and {@code min.insync.replicas=2}, so one node may die at a time.
 *
 * <pre>{@code
 * try (KafkaBrokerProcesses kafka = KafkaBrokerProcesses.start(3, dir)) {
 *     String topic = kafka.newTopic("requests", 2);
 *     kafka.kill(kafka.leader(topic, 0));
 * }
 * }</pre>
 */
public final class KafkaBrokerProcesses extends KafkaTestCluster {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaBrokerProcesses.class);
    private static final Duration READY_TIMEOUT = Duration.ofMinutes(2);

    private final List<BrokerNode> nodes = new ArrayList<>();
    private final Thread stopOnExit = new Thread(this::destroyAll, "kafka-broker-processes-stop");

    private KafkaBrokerProcesses() {
        Runtime.getRuntime().addShutdownHook(stopOnExit);
    }

    /**
     * Formats and starts {@code count} nodes under {@code dir} and waits until every broker has
     * registered. The caller closes the cluster, which stops every process it started.
     */
    public static KafkaBrokerProcesses start(int count, Path dir) {
        KafkaBrokerProcesses cluster = new KafkaBrokerProcesses();
        try {
            List<String> classpath = brokerClasspath();
            String clusterId = Uuid.randomUuid().toString();
            List<int[]> ports = new ArrayList<>();
            for (int id = 1; id <= count; id++) {
                ports.add(new int[] {freePort(), freePort()});
            }
            String voters =
                    IntStream.rangeClosed(1, count)
                            .mapToObj(id -> id + "@127.0.0.1:" + ports.get(id - 1)[1])
                            .collect(Collectors.joining(","));
            for (int id = 1; id <= count; id++) {
                Path home = Files.createDirectories(dir.resolve("broker-" + id));
                BrokerNode node =
                        new BrokerNode(
                                id,
                                home,
                                ports.get(id - 1)[0],
                                ports.get(id - 1)[1],
                                classpath,
                                serverProperties(id, count, home, ports.get(id - 1), voters));
                node.format(clusterId);
                cluster.nodes.add(node);
            }
            // All at once: a controller waits for a quorum of its peers.
            for (BrokerNode node : cluster.nodes) {
                node.launch();
            }
            cluster.awaitBrokers(count);
            LOG.info("Kafka broker processes up: {}", cluster.bootstrapServers());
            return cluster;
        } catch (IOException | RuntimeException e) {
            cluster.close();
            throw new IllegalStateException("Cannot start " + count + " Kafka broker processes", e);
        }
    }

    @Override
    public String bootstrapServers() {
        return nodes.stream()
                .map(node -> "127.0.0.1:" + node.brokerPort)
                .collect(Collectors.joining(","));
    }

    @Override
    protected short replicationFactor() {
        return (short) Math.min(3, nodes.size());
    }

    /** The node ids, 1 to n. */
    public List<Integer> nodeIds() {
        return nodes.stream().map(node -> node.id).toList();
    }

    /** The process id of a running node. */
    public long pid(int node) {
        return node(node).process().pid();
    }

    /** The node that leads {@code partition} of {@code topic} now, as the Admin client says. */
    public int leader(String topic, int partition) {
        TopicPartitionInfo info = partitionInfo(topic, partition);
        if (!hasLeader(info)) {
            throw new IllegalStateException(topic + "-" + partition + " has no leader");
        }
        return info.leader().id();
    }

    /**
     * Waits until every partition of every topic, the internal ones included, has all its replicas
     * in sync: what Kafka's own system tests wait for between two bounces. A restarted node catches
     * up on each partition separately, so one partition back in sync says nothing of the others;
     * killing the next node before then can leave a partition with fewer in-sync replicas than
     * {@code min.insync.replicas}, or with none.
     */
    public void awaitFullyReplicated(Duration timeout) {
        long started = System.nanoTime();
        long deadline = started + timeout.toNanos();
        List<String> behind = List.of("(not described yet)");
        int behindAtFirst = -1;
        while (System.nanoTime() < deadline) {
            try {
                behind =
                        partitions().entrySet().stream()
                                .filter(
                                        p ->
                                                p.getValue().isr().size()
                                                        < p.getValue().replicas().size())
                                .map(p -> describe(p.getKey(), p.getValue()))
                                .toList();
                if (behindAtFirst < 0) {
                    behindAtFirst = behind.size();
                }
                if (behind.isEmpty()) {
                    LOG.info(
                            "Every partition fully replicated after {} ms ({} behind at first)",
                            (System.nanoTime() - started) / 1_000_000,
                            behindAtFirst);
                    return;
                }
            } catch (RuntimeException e) {
                LOG.debug("Describing the topics failed; trying again", e);
            }
            sleep(Duration.ofMillis(250));
        }
        throw new IllegalStateException(
                "Partitions not fully replicated after " + timeout + ": " + behind);
    }

    /**
     * Every partition of every topic, one line each: its leader, replicas, in-sync replicas and
     * eligible leader replicas: for a test's output where something went wrong, in a few dozen
     * lines where the brokers' logs would be thousands.
     */
    public String partitionTable() {
        try {
            return partitions().entrySet().stream()
                    .map(p -> describe(p.getKey(), p.getValue()))
                    .collect(Collectors.joining("\n"));
        } catch (RuntimeException e) {
            return "(cannot describe the topics: " + e + ")";
        }
    }

    /**
     * {@code kill -9}: SIGKILL, no shutdown hook, no flush, no controlled leadership move; the
     * other nodes notice only when its session times out.
     */
    public void kill(int node) {
        BrokerNode target = node(node);
        Process process = target.process();
        LOG.info("kill -9 broker {} (pid {})", node, process.pid());
        process.destroyForcibly(); // SIGKILL on Unix
        waitFor(process, Duration.ofSeconds(30));
    }

    /** A clean shutdown (SIGTERM): the broker hands its leaderships over and exits. */
    public void stop(int node) {
        BrokerNode target = node(node);
        LOG.info("Stopping broker {} (pid {})", node, target.process().pid());
        target.terminate();
    }

    /** Starts a stopped or killed node again on the same data folder and ports. */
    public void restart(int node) {
        BrokerNode target = node(node);
        if (target.process != null && target.process.isAlive()) {
            throw new IllegalStateException("Broker " + node + " still runs");
        }
        target.launch();
        awaitBrokers(nodes.size());
    }

    /** Every node's process, and each one's end of its server log: for a failed test's output. */
    public String describe() {
        StringBuilder text = new StringBuilder();
        for (BrokerNode node : nodes) {
            text.append(
                    String.format(
                            "--- broker %d (%s), last lines of %s%n%s%n",
                            node.id,
                            node.process == null
                                    ? "never started"
                                    : node.process.isAlive()
                                            ? "pid " + node.process.pid()
                                            : "exited " + node.process.exitValue(),
                            node.log().getFileName(),
                            node.logTail(40)));
        }
        return text.toString();
    }

    @Override
    public void close() {
        for (BrokerNode node : nodes) {
            if (node.process != null && node.process.isAlive()) {
                node.process.destroy();
            }
        }
        for (BrokerNode node : nodes) {
            if (node.process != null) {
                try {
                    node.process.waitFor(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        destroyAll();
        try {
            Runtime.getRuntime().removeShutdownHook(stopOnExit);
        } catch (IllegalStateException e) {
            // The JVM is exiting: the hook runs anyway.
        }
    }

    private void destroyAll() {
        for (BrokerNode node : nodes) {
            if (node.process != null && node.process.isAlive()) {
                node.process.destroyForcibly();
            }
        }
    }

    private BrokerNode node(int id) {
        return nodes.stream()
                .filter(node -> node.id == id)
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("No broker " + id));
    }

    private TopicPartitionInfo partitionInfo(String topic, int partition) {
        try (Admin admin = admin()) {
            TopicDescription description =
                    admin.describeTopics(List.of(topic))
                            .allTopicNames()
                            .get(30, TimeUnit.SECONDS)
                            .get(topic);
            return description.partitions().get(partition);
        } catch (Exception e) {
            throw new IllegalStateException("Cannot describe " + topic, e);
        }
    }

    /** Every partition of every topic, internal ones included, by "topic-partition". */
    private Map<String, TopicPartitionInfo> partitions() {
        try (Admin admin = admin()) {
            Set<String> topics =
                    admin.listTopics(new ListTopicsOptions().listInternal(true))
                            .names()
                            .get(30, TimeUnit.SECONDS);
            Map<String, TopicPartitionInfo> partitions = new TreeMap<>();
            admin.describeTopics(topics)
                    .allTopicNames()
                    .get(30, TimeUnit.SECONDS)
                    .forEach(
                            (topic, description) ->
                                    description
                                            .partitions()
                                            .forEach(
                                                    p ->
                                                            partitions.put(
                                                                    topic + "-" + p.partition(),
                                                                    p)));
            return partitions;
        } catch (Exception e) {
            throw new IllegalStateException("Cannot describe the topics", e);
        }
    }

    private static String describe(String partition, TopicPartitionInfo info) {
        return String.format(
                "%s leader %s, replicas %s, isr %s, elr %s",
                partition,
                hasLeader(info) ? info.leader().id() : "none",
                ids(info.replicas()),
                ids(info.isr()),
                ids(info.elr()));
    }

    private static List<Integer> ids(List<Node> nodes) {
        return nodes == null ? List.of() : nodes.stream().map(Node::id).toList();
    }

    private void awaitBrokers(int count) {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            for (BrokerNode node : nodes) {
                if (node.process != null && !node.process.isAlive() && node.expectedUp) {
                    throw new IllegalStateException(
                            "Broker " + node.id + " exited:\n" + node.logTail(60));
                }
            }
            try (Admin admin = admin()) {
                int brokers = admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).size();
                if (brokers >= count) {
                    return;
                }
            } catch (Exception e) {
                last = e;
            }
            sleep(Duration.ofMillis(500));
        }
        throw new IllegalStateException(
                "Not all " + count + " brokers up after " + READY_TIMEOUT + "\n" + describe(),
                last);
    }

    private Admin admin() {
        Properties config = clientProperties();
        config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "20000");
        return Admin.create(config);
    }

    private static Map<String, String> serverProperties(
            int id, int count, Path home, int[] ports, String voters) {
        String replicas = Integer.toString(Math.min(3, count));
        String minInSync = Integer.toString(Math.min(2, count));
        Map<String, String> config = new TreeMap<>();
        config.put("process.roles", "broker,controller");
        config.put("node.id", Integer.toString(id));
        config.put("controller.quorum.voters", voters);
        config.put(
                "listeners",
                "PLAINTEXT://127.0.0.1:" + ports[0] + ",CONTROLLER://127.0.0.1:" + ports[1]);
        config.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + ports[0]);
        config.put("controller.listener.names", "CONTROLLER");
        config.put("inter.broker.listener.name", "PLAINTEXT");
        config.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        config.put("log.dirs", home.resolve("data").toString());
        config.put("default.replication.factor", replicas);
        config.put("min.insync.replicas", minInSync);
        config.put("offsets.topic.replication.factor", replicas);
        config.put("transaction.state.log.replication.factor", replicas);
        config.put("transaction.state.log.min.isr", minInSync);
        config.put("unclean.leader.election.enable", "false");
        // Fewer internal partitions than the production 50: faster to create and to fail over.
        config.put("offsets.topic.num.partitions", "4");
        config.put("transaction.state.log.num.partitions", "4");
        config.put("group.initial.rebalance.delay.ms", "0");
        // A killed broker is fenced when its session ends: 6 s rather than 9, to keep tests short.
        config.put("broker.session.timeout.ms", "6000");
        config.put("broker.heartbeat.interval.ms", "1000");
        return config;
    }

    /** The classpath the build resolved for the broker: Kafka's server jars and Log4j. */
    private static List<String> brokerClasspath() throws IOException {
        try (InputStream in =
                KafkaBrokerProcesses.class.getResourceAsStream("broker-classpath.txt")) {
            if (in == null) {
                throw new IllegalStateException(
                        "broker-classpath.txt is missing: build sift-test-support with Maven");
            }
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
            return List.of(text.split(File.pathSeparator));
        }
    }

    private static void waitFor(Process process, Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("Process " + process.pid() + " did not exit");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One node: its folder, ports, configuration and, while it runs, its process. */
    private static final class BrokerNode {
        final int id;
        final Path home;
        final int brokerPort;
        final int controllerPort;
        final List<String> classpath;
        final Path config;
        Process process;
        boolean expectedUp;

        BrokerNode(
                int id,
                Path home,
                int brokerPort,
                int controllerPort,
                List<String> classpath,
                Map<String, String> properties)
                throws IOException {
            this.id = id;
            this.home = home;
            this.brokerPort = brokerPort;
            this.controllerPort = controllerPort;
            this.classpath = classpath;
            this.config = home.resolve("server.properties");
            StringBuilder text = new StringBuilder();
            properties.forEach(
                    (key, value) -> text.append(key).append('=').append(value).append('\n'));
            Files.writeString(config, text);
            Files.writeString(
                    home.resolve("log4j2.properties"),
                    String.join(
                            "\n",
                            "appender.file.type = File",
                            "appender.file.name = file",
                            "appender.file.fileName = " + log(),
                            "appender.file.layout.type = PatternLayout",
                            "appender.file.layout.pattern = [%d] %p %m (%c)%n",
                            "rootLogger.level = INFO",
                            "rootLogger.appenderRef.file.ref = file",
                            "logger.kafka.name = org.apache.kafka",
                            "logger.kafka.level = INFO",
                            ""));
        }

        Path log() {
            return home.resolve("server.log");
        }

        void format(String clusterId) {
            Process format =
                    java(
                            "kafka.tools.StorageTool",
                            List.of("format", "-t", clusterId, "-c", config.toString()),
                            home.resolve("format.out"));
            waitFor(format, Duration.ofMinutes(1));
            if (format.exitValue() != 0) {
                throw new IllegalStateException(
                        "Formatting broker "
                                + id
                                + " failed: "
                                + readQuietly(home.resolve("format.out")));
            }
        }

        void launch() {
            expectedUp = true;
            process = java("kafka.Kafka", List.of(config.toString()), home.resolve("broker.out"));
            LOG.info("Started broker {} (pid {}), port {}", id, process.pid(), brokerPort);
        }

        Process process() {
            if (process == null || !process.isAlive()) {
                throw new IllegalStateException("Broker " + id + " is not running");
            }
            return process;
        }

        void terminate() {
            expectedUp = false;
            Process running = process();
            running.destroy(); // SIGTERM: Kafka's own shutdown hook runs
            try {
                if (!running.waitFor(60, TimeUnit.SECONDS)) {
                    LOG.warn("Broker {} did not stop in 60 s; killing it", id);
                    running.destroyForcibly().waitFor();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        private Process java(String mainClass, List<String> args, Path output) {
            List<String> command = new ArrayList<>();
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            // A small broker: test traffic is light, and the machine is shared.
            command.addAll(
                    List.of(
                            "-Xms128m",
                            "-Xmx512m",
                            "-XX:+UseSerialGC",
                            "-Djava.awt.headless=true",
                            "-Dlog4j2.configurationFile=" + home.resolve("log4j2.properties"),
                            "-cp",
                            String.join(File.pathSeparator, classpath),
                            mainClass));
            command.addAll(args);
            try {
                return new ProcessBuilder(command)
                        .directory(home.toFile())
                        .redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()))
                        .start();
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot start " + mainClass, e);
            }
        }

        String logTail(int lines) {
            List<String> all = new ArrayList<>();
            for (Path file : List.of(home.resolve("broker.out"), log())) {
                String text = readQuietly(file);
                if (!text.isEmpty()) {
                    all.addAll(List.of(text.split("\n")));
                }
            }
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        }

        private static String readQuietly(Path file) {
            try {
                return Files.exists(file) ? Files.readString(file) : "";
            } catch (IOException e) {
                return "(unreadable: " + e + ")";
            }
        }
    }
}
