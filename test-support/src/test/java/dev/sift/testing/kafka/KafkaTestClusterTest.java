package dev.sift.testing.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.junit.jupiter.api.Test;

class KafkaTestClusterTest {

    @Test
    void ensureTopicTakesATopicThatExistsAsCreated() throws Exception {
        KafkaTestCluster kafka = KafkaTestCluster.shared();
        String topic = kafka.newTopic("twice", 3);

        kafka.ensureTopic(topic, 3); // what the admin client's retry of a timed-out create meets

        try (Admin admin = Admin.create(kafka.clientProperties())) {
            TopicDescription description =
                    admin.describeTopics(List.of(topic))
                            .topicNameValues()
                            .get(topic)
                            .get(30, TimeUnit.SECONDS);
            assertThat(description.partitions()).hasSize(3).allMatch(KafkaTestCluster::hasLeader);
        }
    }
}
