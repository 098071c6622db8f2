package dev.sift.job;

import dev.sift.serving.request.RawRecord;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;

/**
 * Fails the task {@code failures} times, each time a few records ({@link #IN_FLIGHT}) after a
 * checkpoint completed and before the next one does: the hard case for exactly-once, since the
 * records read after that checkpoint were already classified (and written into an open transaction)
 * when the task dies, and must come out once after the restore, not twice and not never.
 *
 * <p>It counts in its own checkpointed state, so it works on a real cluster, where a restart may
 * run in another JVM. A snapshot that precedes a planned failure already counts it: the job
 * restores from exactly that checkpoint, and would otherwise fail after it forever. Only subtask 0
 * fails; a task failure restarts the whole (connected) job anyway.
 *
 * <p>The exception's message names the checkpoint it follows; {@link #INJECTED} lists them for a
 * test in the same JVM (a MiniCluster), and a real cluster shows them in its exception history.
 */
public final class FailAfterCheckpoints extends RichMapFunction<RawRecord, RawRecord>
        implements CheckpointedFunction, CheckpointListener {

    /** Message prefix of every injected failure. */
    public static final String MESSAGE = "Injected failure";

    /** Records this subtask maps after the checkpoint completed before it fails. */
    public static final int IN_FLIGHT = 10;

    /** The checkpoint each injected failure followed, in this JVM. */
    public static final ConcurrentLinkedQueue<Long> INJECTED = new ConcurrentLinkedQueue<>();

    private final int failures;
    private final int recordsBefore;
    private transient ListState<Integer> failuresState;
    private transient int done;
    private transient long seen;
    private transient long plannedAfter;
    private transient long failAfter;
    private transient long seenAtCheckpoint;

    /**
     * @param failures how many times to fail in all
     * @param recordsBefore how many records the failing subtask maps after each (re)start before it
     *     plans the next failure, so that failures come mid-stream rather than back to back
     */
    public FailAfterCheckpoints(int failures, int recordsBefore) {
        this.failures = failures;
        this.recordsBefore = recordsBefore;
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        // Union state: whichever subtask restores it, subtask 0 sees the count.
        failuresState =
                context.getOperatorStateStore()
                        .getUnionListState(
                                new ListStateDescriptor<>("injected-failures", Integer.class));
        for (Integer count : failuresState.get()) {
            done = Math.max(done, count);
        }
        plannedAfter = -1;
        failAfter = -1;
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        failuresState.clear();
        if (!failingSubtask()) {
            return;
        }
        if (done < failures && seen >= recordsBefore) {
            plannedAfter = context.getCheckpointId();
            failuresState.update(List.of(done + 1));
        } else {
            failuresState.update(List.of(done));
        }
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
        // A later planned checkpoint may complete before a record arrives: the failure then
        // follows that one, still before the next.
        if (plannedAfter >= 0 && checkpointId >= plannedAfter) {
            if (failAfter < 0) {
                seenAtCheckpoint = seen;
            }
            failAfter = checkpointId;
        }
    }

    @Override
    public RawRecord map(RawRecord record) {
        seen++;
        if (failAfter >= 0 && seen - seenAtCheckpoint > IN_FLIGHT) {
            INJECTED.add(failAfter);
            throw new IllegalStateException(
                    String.format(
                            "%s %d of %d, after checkpoint %d",
                            MESSAGE, done + 1, failures, failAfter));
        }
        return record;
    }

    private boolean failingSubtask() {
        return getRuntimeContext().getTaskInfo().getIndexOfThisSubtask() == 0;
    }
}
