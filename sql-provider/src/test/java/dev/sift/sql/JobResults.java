package dev.sift.sql;

import dev.sift.job.SiftJob;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.schemas.ModelAction;
import dev.sift.testing.kafka.KafkaTestCluster;
import dev.sift.trainer.publish.Announcer;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * What Sift's DataStream job answers for a requests topic: the job itself ({@link SiftJob#wire}, as
 * deployed), started on the test's MiniCluster with a fresh consumer group and results topic, run
 * until every request is answered, then cancelled. The version to compare with is activated first,
 * as {@code sift-trainer announce --registry-only} does, so the fresh job serves it.
 */
final class JobResults {

    private JobResults() {}

    static Map<String, JobAnswers.Answer> run(
            KafkaTestCluster kafka, String requestsTopic, int expected, ModelBundle serving)
            throws Exception {
        ModelRegistry registry = ModelRegistry.at(serving.dir().getParent().getParent());
        Announcer.record(
                registry, Announcer.announcement(registry, serving, ModelAction.ACTIVATE, null));
        String results = kafka.newTopic("job-results", 1);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        SiftJob.wire(
                env,
                SiftJob.parseArgs(
                        "--sift.kafka.bootstrap-servers=" + kafka.bootstrapServers(),
                        "--sift.topics.requests=" + requestsTopic,
                        "--sift.topics.results=" + results,
                        "--sift.topics.dead-letters=" + kafka.newTopic("job-dead-letters", 1),
                        "--sift.topics.shadow=" + kafka.newTopic("job-shadow", 1),
                        "--sift.topics.models=" + kafka.newTopic("job-models", 1),
                        "--sift.kafka.group-id=job-" + UUID.randomUUID(),
                        "--sift.registry=" + registry.root(),
                        "--sift.parallelism=2",
                        "--sift.checkpoint.interval=300 ms",
                        "--sift.batch.max-size=8",
                        "--sift.batch.max-wait=20 ms"));
        JobClient job = env.executeAsync("sift-job-reference");
        try {
            while (job.getJobStatus().get() != JobStatus.RUNNING) {
                Thread.sleep(50);
            }
            Map<String, JobAnswers.Answer> answers = new HashMap<>();
            for (var record : kafka.readCommitted(results, expected, Duration.ofSeconds(90))) {
                var decoded = JobAnswers.decode(record.value());
                answers.put(decoded.getKey(), decoded.getValue());
            }
            return answers;
        } finally {
            job.cancel().get();
        }
    }
}
