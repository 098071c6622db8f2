package dev.sift.kafka.embedded;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.apache.kafka.common.test.JaasUtils;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/**
 * One KRaft broker and controller in this JVM, from Kafka's own test kit: a real broker (the
 * transaction coordinator included, so exactly-once works) without Docker or a download. The demo
 * runs on it; the tests do where Docker does not answer.
 *
 * <pre>{@code
 * try (EmbeddedKafka kafka = EmbeddedKafka.start(Map.of())) {
 *     Properties clients = kafka.clientProperties();
 * }
 * }</pre>
 */
public final class EmbeddedKafka implements AutoCloseable {

    /** An ordinary user of a {@link #startWithSasl()} broker; its admin is a super user. */
    public static final String SASL_USER = JaasUtils.KAFKA_PLAIN_USER1;

    public static final String SASL_PASSWORD = JaasUtils.KAFKA_PLAIN_USER1_PASSWORD;

    private final KafkaClusterTestKit cluster;
    private final boolean sasl;

    private EmbeddedKafka(Map<String, String> brokerConfig, boolean sasl) {
        this.sasl = sasl;
        try {
            TestKitNodes.Builder nodes =
                    new TestKitNodes.Builder()
                            .setCombined(true)
                            .setNumBrokerNodes(1)
                            .setNumControllerNodes(1);
            if (sasl) {
                nodes.setBrokerSecurityProtocol(SecurityProtocol.SASL_PLAINTEXT)
                        .setControllerSecurityProtocol(SecurityProtocol.SASL_PLAINTEXT);
            }
            KafkaClusterTestKit.Builder builder =
                    new KafkaClusterTestKit.Builder(nodes.build())
                            // A single broker cannot hold three replicas of the internal topics.
                            .setConfigProp("offsets.topic.replication.factor", "1")
                            .setConfigProp("transaction.state.log.replication.factor", "1")
                            .setConfigProp("transaction.state.log.min.isr", "1")
                            .setConfigProp("group.initial.rebalance.delay.ms", "0");
            brokerConfig.forEach(builder::setConfigProp);
            cluster = builder.build();
            cluster.format();
            cluster.startup();
            cluster.waitForReadyBrokers();
            if (sasl) {
                grantEverything(SASL_USER);
            }
        } catch (Exception e) {
            throw new IllegalStateException("Cannot start the in-process Kafka broker", e);
        }
    }

    /**
     * A broker with extra broker settings ({@code server.properties} keys); the caller closes it.
     */
    public static EmbeddedKafka start(Map<String, String> brokerConfig) {
        return new EmbeddedKafka(brokerConfig, false);
    }

    /**
     * A broker whose clients must authenticate with SASL_PLAINTEXT and PLAIN, and which authorizes.
     * Its {@link #clientProperties()} log in as the admin; {@link #SASL_USER} is an ordinary user.
     */
    public static EmbeddedKafka startWithSasl() {
        return new EmbeddedKafka(Map.of(), true);
    }

    /** Client properties that log in with SASL_PLAINTEXT and PLAIN as {@code user}. */
    public static Properties saslPlain(String user, String password) {
        Properties properties = new Properties();
        properties.put("security.protocol", "SASL_PLAINTEXT");
        properties.put("sasl.mechanism", "PLAIN");
        properties.put(
                "sasl.jaas.config",
                "org.apache.kafka.common.security.plain.PlainLoginModule required username=\""
                        + user
                        + "\" password=\""
                        + password
                        + "\";");
        return properties;
    }

    public String bootstrapServers() {
        return cluster.bootstrapServers();
    }

    /** What every client of this broker needs: its address and, with SASL, the admin's login. */
    public Properties clientProperties() {
        Properties properties = new Properties();
        properties.put("bootstrap.servers", bootstrapServers());
        if (sasl) {
            properties.putAll(
                    saslPlain(JaasUtils.KAFKA_PLAIN_ADMIN, JaasUtils.KAFKA_PLAIN_ADMIN_PASSWORD));
        }
        return properties;
    }

    /**
     * The SASL broker authorizes, and only its admin is a super user: an ordinary user may use
     * every topic, group and transactional id once these ACLs exist, as on a real cluster.
     */
    private void grantEverything(String user) throws Exception {
        String principal = "User:" + user;
        List<AclBinding> acls = new ArrayList<>();
        for (ResourceType type :
                List.of(ResourceType.TOPIC, ResourceType.GROUP, ResourceType.TRANSACTIONAL_ID)) {
            acls.add(
                    new AclBinding(
                            new ResourcePattern(type, "*", PatternType.LITERAL),
                            new AccessControlEntry(
                                    principal, "*", AclOperation.ALL, AclPermissionType.ALLOW)));
        }
        acls.add(
                new AclBinding(
                        new ResourcePattern(
                                ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL),
                        new AccessControlEntry(
                                principal,
                                "*",
                                AclOperation.IDEMPOTENT_WRITE,
                                AclPermissionType.ALLOW)));
        try (Admin admin = Admin.create(clientProperties())) {
            admin.createAcls(acls).all().get(60, TimeUnit.SECONDS);
        }
    }

    @Override
    public void close() throws Exception {
        cluster.close();
    }
}
