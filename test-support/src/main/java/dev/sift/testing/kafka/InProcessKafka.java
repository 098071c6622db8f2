package dev.sift.testing.kafka;

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
 * One KRaft broker and controller in this JVM, from Kafka's own test kit; with {@code sasl}, its
 * listeners take SASL_PLAINTEXT with the PLAIN mechanism and the kit's users, and it authorizes.
 */
final class InProcessKafka extends KafkaTestCluster {

    private final KafkaClusterTestKit cluster;
    private final boolean sasl;

    InProcessKafka(Map<String, String> brokerConfig) {
        this(brokerConfig, false);
    }

    InProcessKafka(Map<String, String> brokerConfig, boolean sasl) {
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

    @Override
    public String bootstrapServers() {
        return cluster.bootstrapServers();
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
    public Properties clientProperties() {
        Properties properties = super.clientProperties();
        if (sasl) {
            properties.putAll(
                    saslPlain(JaasUtils.KAFKA_PLAIN_ADMIN, JaasUtils.KAFKA_PLAIN_ADMIN_PASSWORD));
        }
        return properties;
    }

    @Override
    public void close() throws Exception {
        cluster.close();
    }
}
