package dev.sift.job;

import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.RecordDecodingException;
import dev.sift.schemas.RequestCodec;
import dev.sift.schemas.TextRequest;
import dev.sift.testing.kafka.KafkaTestCluster;
import java.time.Duration;
import java.util.List;

/**
 * Sends probe requests ({@code probe-0}, {@code probe-1}, ...) until one is answered by a given
 * model version: how a test knows a running job has picked up an announcement.
 */
public final class VersionProbe {

    private final KafkaTestCluster kafka;
    private final String requests;
    private final String results;
    private final RequestCodec codec = new RequestCodec();
    private int sent;

    public VersionProbe(KafkaTestCluster kafka, String requests, String results) {
        this.kafka = kafka;
        this.requests = requests;
        this.results = results;
    }

    /** How many probes were sent so far; each gets one result per model. */
    public int sent() {
        return sent;
    }

    public void await(String model, long version, Duration timeout)
            throws RecordDecodingException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            String id = "probe-" + sent++;
            kafka.send(
                    requests,
                    List.of(
                            codec.encode(
                                    TextRequest.newBuilder().setId(id).setText("probe").build())));
            Thread.sleep(200);
            for (ClassificationResult result :
                    Results.read(kafka, results, Integer.MAX_VALUE, Duration.ofSeconds(2))) {
                if (result.getId().equals(id)
                        && result.getModel().equals(model)
                        && result.getModelVersion() == version) {
                    return;
                }
            }
        }
        throw new AssertionError(model + " v" + version + " never served within " + timeout);
    }
}
