package dev.sift.deploy;

import dev.sift.job.FailAfterCheckpoints;
import dev.sift.job.SiftJob;
import dev.sift.job.SiftPipeline;
import dev.sift.job.TopicCheck;
import dev.sift.job.config.SiftOptions;
import dev.sift.serving.request.RawRecord;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Sift as {@link SiftJob#wire} builds it, with one step more after the request source: {@link
 * FailAfterCheckpoints}, which fails the task three times, each right after a completed checkpoint.
 * The failure matrix submits this entry point to the standalone cluster next to the real job jar
 * ({@code flink run -C <test classes> -c ...InjectedFailureJob sift-job.jar}); production code
 * carries no such hook.
 */
public final class InjectedFailureJob {

    /** How many failures the job injects. */
    static final int FAILURES = 3;

    /** Records the failing subtask maps after each (re)start before it plans the next failure. */
    static final int RECORDS_BEFORE = 60;

    private InjectedFailureJob() {}

    public static void main(String[] args) throws Exception {
        Configuration config = SiftJob.parseArgs(args);
        TopicCheck.of(config).run();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(config.get(SiftOptions.PARALLELISM));
        env.enableCheckpointing(
                config.get(SiftOptions.CHECKPOINT_INTERVAL).toMillis(),
                CheckpointingMode.EXACTLY_ONCE);
        DataStream<RawRecord> requests =
                env.fromSource(
                                SiftJob.requestSource(config),
                                WatermarkStrategy.noWatermarks(),
                                "requests")
                        .uid("sift-requests")
                        .map(new FailAfterCheckpoints(FAILURES, RECORDS_BEFORE))
                        .name("injected-failures")
                        .uid("injected-failures");
        DataStream<byte[]> announcements =
                env.fromSource(
                                SiftJob.announcementSource(config),
                                WatermarkStrategy.noWatermarks(),
                                "models")
                        .uid("sift-models")
                        .setParallelism(1);
        SiftPipeline.build(
                        requests,
                        announcements,
                        SiftJob.inferenceSettings(config),
                        SiftJob.requestLimits(config))
                .sinkTo(SiftJob.sink(config))
                .name("kafka-sink")
                .uid("sift-sink");
        env.execute("sift-injected-failures");
    }
}
