package dev.sift.model.bench;

import ai.djl.tensorflow.engine.javacpp.JavacppUtils;
import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.encode.Encoder;
import dev.sift.model.encode.PaddedBatch;
import dev.sift.model.encode.TensorFlowEncoder;
import dev.sift.model.testing.RealBert;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicLong;
import org.tensorflow.proto.ConfigProto;

/**
 * TensorFlow's intra-op and inter-op thread pools against the number of Flink slots calling the
 * encoder, for BERT-base on this machine. Each thread setting runs in a JVM of its own, because
 * TensorFlow creates its process-wide thread pools from the first session's settings and keeps
 * them. In that JVM, one or two caller threads stand in for one or two slots of the job:
 *
 * <ul>
 *   <li>"1 slot": one thread calls the encoder back to back;
 *   <li>"2 slots, shared": two threads call one encoder, as two slots of a TaskManager share it
 *       ({@code SharedEncoders}): its passes take turns;
 *   <li>"2 slots, own session": each thread has an encoder of its own (twice the memory), which is
 *       what concurrent passes would give, e.g. per-thread predictors.
 * </ul>
 *
 * <p>Two batch shapes: 32 × 64 (a full batch under the job's default budget of 2048 tokens) and 1 ×
 * 32 (a lone short record, as at low traffic). Figures are sequences per second over all callers.
 *
 * <pre>
 * mvn -q -pl model-core test-compile exec:java -Dexec.classpathScope=test \
 *     -Dexec.mainClass=dev.sift.model.bench.ThreadBenchmark
 * </pre>
 */
public final class ThreadBenchmark {

    private static final int[][] SHAPES = {{32, 64}, {1, 32}};
    private static final double CELL_SECONDS = 4.0;
    private static final int CELL_PASSES = 3;

    /** Intra-op, inter-op; 0 leaves the field unset, which lets TensorFlow choose. */
    private static final int[][] SETTINGS = {{0, 0}, {1, 1}, {1, 2}, {2, 1}, {2, 2}};

    private ThreadBenchmark() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 3 && args[0].equals("--child")) {
            child(Integer.parseInt(args[1]), Integer.parseInt(args[2]));
            return;
        }
        RealBert.bundle(); // import once, before the children race for it
        System.out.println("BERT-base: TensorFlow thread pools vs callers (Flink slots)");
        BenchEnvironment.print(System.out);
        System.out.printf(
                Locale.ROOT,
                "each cell: at least %d passes per caller and %.0f s after one warm-up pass per"
                        + " caller; each thread setting in a fresh JVM; sequences/s over all"
                        + " callers%n%n",
                CELL_PASSES,
                CELL_SECONDS);
        StringBuilder header = new StringBuilder("| intra-op | inter-op |");
        StringBuilder rule = new StringBuilder("|---:|---:|");
        for (int[] shape : SHAPES) {
            for (String mode : new String[] {"1 slot", "2 slots, shared", "2 slots, own session"}) {
                header.append(
                        String.format(Locale.ROOT, " %d × %d, %s |", shape[0], shape[1], mode));
                rule.append("---:|");
            }
        }
        System.out.println(header);
        System.out.println(rule);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        for (int[] setting : SETTINGS) {
            Process process =
                    new ProcessBuilder(
                                    java,
                                    "-Xmx2g",
                                    "-cp",
                                    System.getProperty("java.class.path"),
                                    ThreadBenchmark.class.getName(),
                                    "--child",
                                    Integer.toString(setting[0]),
                                    Integer.toString(setting[1]))
                            .redirectError(ProcessBuilder.Redirect.DISCARD)
                            .start();
            String result = null;
            try (BufferedReader out =
                    new BufferedReader(
                            new InputStreamReader(
                                    process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = out.readLine()) != null; ) {
                    if (line.startsWith("| ")) {
                        result = line;
                    }
                }
            }
            if (process.waitFor() != 0 || result == null) {
                throw new IllegalStateException(
                        "The run with intra-op "
                                + setting[0]
                                + ", inter-op "
                                + setting[1]
                                + " failed (exit "
                                + process.exitValue()
                                + ")");
            }
            System.out.println(result);
        }
    }

    private static void child(int intraOp, int interOp) throws Exception {
        ConfigProto config = null;
        if (intraOp > 0) {
            config =
                    JavacppUtils.getSessionConfig().toBuilder()
                            .setIntraOpParallelismThreads(intraOp)
                            .setInterOpParallelismThreads(interOp)
                            .build();
        }
        EncoderBundle bundle = RealBert.bundle();
        StringBuilder row =
                new StringBuilder(
                        intraOp > 0
                                ? String.format(Locale.ROOT, "| %d | %d |", intraOp, interOp)
                                : "| default | default |");
        try (Encoder first = TensorFlowEncoder.load(bundle, config);
                Encoder second = TensorFlowEncoder.load(bundle, config)) {
            for (int[] shape : SHAPES) {
                PaddedBatch batch =
                        PaddedBatch.of(
                                EncoderBenchmark.inputsOfLength(bundle, shape[1])
                                        .subList(0, shape[0]));
                row.append(cell(List.of(first), batch));
                row.append(cell(List.of(first, first), batch));
                row.append(cell(List.of(first, second), batch));
            }
        }
        System.out.println(row);
    }

    /** Sequences per second with one caller thread per entry of {@code encoders}. */
    private static String cell(List<Encoder> encoders, PaddedBatch batch) throws Exception {
        int callers = encoders.size();
        long[] begun = new long[1];
        // The clock starts when every caller has warmed up, before any is released.
        CyclicBarrier start = new CyclicBarrier(callers + 1, () -> begun[0] = System.nanoTime());
        AtomicLong sequences = new AtomicLong();
        long[] finished = new long[callers];
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < callers; c++) {
            Encoder encoder = encoders.get(c);
            int index = c;
            Thread thread =
                    new Thread(
                            () -> {
                                try {
                                    encoder.encode(batch, EnumSet.of(Pooling.CLS)); // warm-up
                                    start.await();
                                    int passes = 0;
                                    while (passes < CELL_PASSES
                                            || System.nanoTime() - begun[0] < CELL_SECONDS * 1e9) {
                                        encoder.encode(batch, EnumSet.of(Pooling.CLS));
                                        passes++;
                                        sequences.addAndGet(batch.size());
                                    }
                                    finished[index] = System.nanoTime();
                                } catch (Exception e) {
                                    throw new IllegalStateException(e);
                                }
                            });
            threads.add(thread);
            thread.start();
        }
        start.await();
        for (Thread thread : threads) {
            thread.join();
        }
        long end = 0;
        for (long f : finished) {
            end = Math.max(end, f);
        }
        double seconds = (end - begun[0]) / 1e9;
        return String.format(Locale.ROOT, " %.1f |", sequences.get() / seconds);
    }
}
