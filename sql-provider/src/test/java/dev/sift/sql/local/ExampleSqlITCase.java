package dev.sift.sql.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.head.ClassificationHead;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.registry.ModelDraft;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.model.testing.TinyBertEncoder;
import dev.sift.schemas.ModelAction;
import dev.sift.testing.kafka.KafkaTestCluster;
import dev.sift.trainer.publish.Announcer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's SQL, {@code examples/spam.sql}, as written: on a broker with the demo's request
 * topic carrying requests as the demo's producer writes them (JSON with attributes) and one Avro
 * request the table must skip, and a registry with a 'spam' model.
 */
class ExampleSqlITCase {

    @RegisterExtension
    static final MiniClusterExtension FLINK =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(1)
                            .build());

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path registryDir;

    @Test
    void theReadmeExampleClassifiesTheDemoTopic() throws Exception {
        ModelRegistry registry = ModelRegistry.at(registryDir);
        String encoder = TinyBertEncoder.buildInto(registry.encodersDir()).contentHash();
        float[] w = new float[TinyBertEncoder.HIDDEN_SIZE * 2];
        for (int i = 0; i < w.length; i++) {
            w[i] = (i % 7) * 0.1f - 0.3f;
        }
        ModelBundle published =
                registry.publish(
                        ModelDraft.builder("spam", encoder)
                                .pooling(Pooling.CLS)
                                .maxSeqLen(TinyBertEncoder.MAX_SEQ_LEN)
                                .head(
                                        new ClassificationHead(
                                                w, new float[2], List.of("ham", "spam")))
                                .build());
        // As the demo leaves it: the version announced (recorded in the registry).
        Announcer.record(
                registry, Announcer.announcement(registry, published, ModelAction.ACTIVATE, null));
        KafkaTestCluster kafka = KafkaTestCluster.shared();
        kafka.ensureTopic("sift.requests", 2); // the example's own topic name
        List<byte[]> requests = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            requests.add(
                    JSON.writeValueAsBytes(
                            Map.of(
                                    "id",
                                    "mail-" + i,
                                    "text",
                                    i % 2 == 0 ? "win free cash now" : "meeting tomorrow",
                                    "attributes",
                                    Map.of("group", "spam-1", "truth", "spam"))));
        }
        // An Avro single-object request (marker C3 01): not JSON, so the table skips it.
        requests.add(new byte[] {(byte) 0xC3, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0});
        kafka.send("sift.requests", requests);

        Path example = Path.of("examples", "spam.sql");
        String script =
                RunSql.substitute(
                        Files.readString(example, StandardCharsets.UTF_8),
                        name ->
                                Map.of(
                                                "BOOTSTRAP_SERVERS",
                                                kafka.bootstrapServers(),
                                                "REGISTRY",
                                                registryDir.toString())
                                        .get(name));
        List<String> statements = RunSql.statements(script);
        StreamTableEnvironment sql =
                StreamTableEnvironment.create(StreamExecutionEnvironment.getExecutionEnvironment());
        for (String statement : statements.subList(0, statements.size() - 1)) {
            sql.executeSql(statement);
        }
        String query = statements.get(statements.size() - 1);
        assertThat(query).startsWith("SELECT");
        List<Row> rows;
        try (CloseableIterator<Row> it = sql.executeSql(query).collect()) {
            var reader = Executors.newSingleThreadExecutor();
            try {
                rows =
                        reader.submit(
                                        () -> {
                                            List<Row> taken = new ArrayList<>();
                                            while (taken.size() < 6) {
                                                taken.add(it.next());
                                            }
                                            return taken;
                                        })
                                .get(90, TimeUnit.SECONDS);
            } finally {
                reader.shutdownNow();
            }
        }
        assertThat(rows)
                .extracting(row -> row.getField("id"))
                .containsExactlyInAnyOrder(
                        "mail-0", "mail-1", "mail-2", "mail-3", "mail-4", "mail-5");
        assertThat(rows)
                .allSatisfy(
                        row -> {
                            assertThat(row.getField("truth")).isEqualTo("spam");
                            assertThat(row.getField("label")).isIn("ham", "spam");
                            assertThat(row.getField("model_version")).isEqualTo(1L);
                        });
    }
}
