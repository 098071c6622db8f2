package dev.sift.testing.kafka;

import dev.sift.kafka.embedded.EmbeddedKafka;
import java.util.Properties;

/** The {@link EmbeddedKafka} broker, as a test cluster. */
final class InProcessKafka extends KafkaTestCluster {

    private final EmbeddedKafka broker;

    InProcessKafka(EmbeddedKafka broker) {
        this.broker = broker;
    }

    @Override
    public String bootstrapServers() {
        return broker.bootstrapServers();
    }

    @Override
    public Properties clientProperties() {
        return broker.clientProperties();
    }

    @Override
    public void close() throws Exception {
        broker.close();
    }
}
