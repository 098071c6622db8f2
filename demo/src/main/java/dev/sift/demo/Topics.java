package dev.sift.demo;

import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;

final class Topics {

    private Topics() {}

    static void create(Properties client, Map<String, Integer> partitions) throws Exception {
        try (Admin admin = Admin.create(client)) {
            List<NewTopic> topics =
                    partitions.entrySet().stream()
                            .map(e -> new NewTopic(e.getKey(), e.getValue(), (short) 1))
                            .toList();
            admin.createTopics(topics).all().get(60, TimeUnit.SECONDS);
        }
    }
}
