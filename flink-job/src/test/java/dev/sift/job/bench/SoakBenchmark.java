package dev.sift.job.bench;

import dev.sift.job.SiftJob;
import dev.sift.model.bench.BenchEnvironment;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.head.ClassificationHead;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.registry.ModelDraft;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.model.testing.RealBert;
import dev.sift.model.testing.TinyBertEncoder;
import dev.sift.schemas.ModelAction;
import dev.sift.serving.testing.TestModels;
import dev.sift.testing.kafka.KafkaTestCluster;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.ObjectName;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Soak: the whole job (in-process Kafka broker, Flink's local cluster in this JVM, so this JVM is
 * the TaskManager) under steady traffic for N minutes, with a model swap every M seconds, printing
 * the process's resident memory, heap and the JVM's native memory over time. Swaps alternate the
 * model between a head on BERT-base and a head on the tiny test encoder, so every swap loads one
 * TensorFlow session and releases the other: a leak of a session, a predictor or a tokenizer shows
 * as growth per swap.
 *
 * <pre>
 * mvn -q -pl flink-job -am install -DskipTests &amp;&amp; mvn -q -pl flink-job exec:exec@soak \
 *     -Dsoak.args="--minutes 10 --swap-seconds 30 --rate 5"
 * </pre>
 */
public final class SoakBenchmark {

    private static final Pattern NMT_TOTAL =
            Pattern.compile("Total: reserved=(\\d+)KB, committed=(\\d+)KB");

    private SoakBenchmark() {}

    record Sample(
            double minutes,
            long sent,
            long answered,
            int swaps,
            long rssMb,
            long heapMb,
            long nativeMb) {}

    public static void main(String[] args) throws Exception {
        Map<String, String> options = options(args);
        double minutes = Double.parseDouble(options.getOrDefault("minutes", "10"));
        int swapSeconds = Integer.parseInt(options.getOrDefault("swap-seconds", "30"));
        double rate = Double.parseDouble(options.getOrDefault("rate", "5"));
        int sampleSeconds = Integer.parseInt(options.getOrDefault("sample-seconds", "10"));

        Path registryDir = Files.createTempDirectory("sift-soak");
        ModelRegistry registry = RealBert.registryAt(registryDir);
        String bert = RealBert.bundle().contentHash();
        String tiny = TinyBertEncoder.buildInto(registry.encodersDir()).contentHash();
        // Versions alternate encoders: odd on BERT-base, even on the tiny encoder.
        List<ModelBundle> versions = new ArrayList<>();
        versions.add(registry.publish(draft(bert, 768, 1)));
        versions.add(registry.publish(draft(tiny, TinyBertEncoder.HIDDEN_SIZE, 2)));
        registry.recordAnnouncement(
                "spam",
                TestModels.encode(TestModels.announcement(versions.get(0), ModelAction.ACTIVATE)));

        try (KafkaTestCluster kafka = KafkaTestCluster.start(Map.of())) {
            String requests = kafka.newTopic("soak-requests", 1);
            String results = kafka.newTopic("soak-results", 1);
            String deadLetters = kafka.newTopic("soak-dead-letters", 1);
            String models = kafka.newTopic("soak-models", 1);
            Configuration config =
                    SiftJob.parseArgs(
                            "--sift.kafka.bootstrap-servers=" + kafka.bootstrapServers(),
                            "--sift.topics.requests=" + requests,
                            "--sift.topics.results=" + results,
                            "--sift.topics.dead-letters=" + deadLetters,
                            "--sift.topics.shadow=" + kafka.newTopic("shadow", 1),
                            "--sift.topics.feedback=" + kafka.newTopic("feedback", 1),
                            "--sift.topics.models=" + models,
                            "--sift.registry=" + registryDir,
                            "--sift.checkpoint.interval=5 s");
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            SiftJob.wire(env, config);
            JobClient job = env.executeAsync("sift-soak");

            AtomicBoolean running = new AtomicBoolean(true);
            AtomicLong sent = new AtomicLong();
            AtomicLong answered = new AtomicLong();
            Thread producer =
                    new Thread(
                            () -> produce(kafka, requests, rate, running, sent), "soak-producer");
            Thread consumer =
                    new Thread(() -> consume(kafka, results, running, answered), "soak-consumer");
            producer.start();
            consumer.start();

            System.out.printf(
                    Locale.ROOT,
                    "Soak: %.1f min, a swap every %d s (BERT-base <-> tiny encoder), %.1f"
                            + " requests/s, %s%n",
                    minutes,
                    swapSeconds,
                    rate,
                    Instant.now());
            BenchEnvironment.print(System.out);
            System.out.printf(
                    Locale.ROOT,
                    "%7s %8s %9s %6s %8s %8s %12s%n",
                    "minute",
                    "sent",
                    "answered",
                    "swaps",
                    "RSS MB",
                    "heap MB",
                    "non-heap MB");
            List<Sample> samples = new ArrayList<>();
            long start = System.nanoTime();
            long end = start + (long) (minutes * 60e9);
            long nextSwap = start + swapSeconds * 1_000_000_000L;
            int swaps = 0;
            while (System.nanoTime() < end) {
                Thread.sleep(sampleSeconds * 1000L);
                if (System.nanoTime() >= nextSwap) {
                    swaps++;
                    ModelBundle next = versions.get(swaps % 2);
                    // Up from v1 to v2 is an activation; back down is a roll back.
                    ModelAction action =
                            swaps % 2 == 1 ? ModelAction.ACTIVATE : ModelAction.ROLL_BACK;
                    kafka.send(
                            models,
                            List.of(TestModels.encode(TestModels.announcement(next, action))));
                    nextSwap += swapSeconds * 1_000_000_000L;
                }
                Sample sample =
                        new Sample(
                                (System.nanoTime() - start) / 60e9,
                                sent.get(),
                                answered.get(),
                                swaps,
                                residentMb(),
                                heapMb(),
                                nativeMb());
                samples.add(sample);
                System.out.printf(
                        Locale.ROOT,
                        "%7.1f %8d %9d %6d %8d %8d %12s%n",
                        sample.minutes(),
                        sample.sent(),
                        sample.answered(),
                        sample.swaps(),
                        sample.rssMb(),
                        sample.heapMb(),
                        sample.nativeMb() < 0 ? "n/a" : Long.toString(sample.nativeMb()));
            }
            running.set(false);
            producer.join();
            job.cancel().get();
            consumer.join();
            summarize(samples);
        }
    }

    /**
     * Growth per swap is measured over the second half of the run. The first half is warm-up: the
     * heap grows to what the collector settles on and the native allocator to what two encoders
     * loaded in turn need, and both show in the resident size (seen here: about four minutes).
     */
    private static void summarize(List<Sample> samples) {
        Sample warm = samples.get(samples.size() / 2);
        Sample last = samples.get(samples.size() - 1);
        int swapsAfter = last.swaps() - warm.swaps();
        System.out.printf(
                Locale.ROOT,
                "RSS: %d MB at start, %d MB after warm-up (swap %d), %d MB at the end (swap %d):"
                        + " %+.1f MB per swap after warm-up%n",
                samples.get(0).rssMb(),
                warm.rssMb(),
                warm.swaps(),
                last.rssMb(),
                last.swaps(),
                perSwap(last.rssMb() - warm.rssMb(), swapsAfter));
        System.out.printf(
                Locale.ROOT,
                "JVM native outside the heap (NMT committed): %d MB after warm-up, %d MB at the"
                        + " end: %+.1f MB per swap%n",
                warm.nativeMb(),
                last.nativeMb(),
                perSwap(last.nativeMb() - warm.nativeMb(), swapsAfter));
    }

    private static double perSwap(long growth, int swaps) {
        return swaps == 0 ? 0.0 : growth / (double) swaps;
    }

    private static void produce(
            KafkaTestCluster kafka,
            String topic,
            double rate,
            AtomicBoolean running,
            AtomicLong sent) {
        String[] texts = {
            "Re: meeting notes for Tuesday",
            "WIN a FREE cruise to the Bahamas!!! Call now",
            "Your invoice #4411 is attached; payment is due in 30 days. Please review the figures"
                    + " on page three and let us know of any discrepancy before Friday.",
            "cheap meds no prescription",
        };
        Properties config = kafka.clientProperties();
        long intervalNanos = (long) (1e9 / rate);
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer())) {
            long next = System.nanoTime();
            for (long i = 0; running.get(); i++) {
                String json =
                        String.format(
                                Locale.ROOT,
                                "{\"id\":\"s-%d\",\"text\":\"%s\"}",
                                i,
                                texts[(int) (i % texts.length)]);
                producer.send(new ProducerRecord<>(topic, json.getBytes(StandardCharsets.UTF_8)));
                sent.incrementAndGet();
                next += intervalNanos;
                long sleep = next - System.nanoTime();
                if (sleep > 0) {
                    Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void consume(
            KafkaTestCluster kafka, String topic, AtomicBoolean running, AtomicLong answered) {
        Properties config = kafka.clientProperties();
        config.put(ConsumerConfig.GROUP_ID_CONFIG, "soak-reader");
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        Set<String> ids = new HashSet<>();
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(
                        config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            while (running.get()) {
                for (var record : consumer.poll(Duration.ofMillis(500))) {
                    if (ids.add(new String(record.key(), StandardCharsets.UTF_8))) {
                        answered.incrementAndGet();
                    }
                }
            }
        }
    }

    private static ModelDraft draft(String encoderHash, int hiddenSize, long seed) {
        Random random = new Random(seed);
        float[] w = new float[hiddenSize * 2];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (random.nextGaussian() * 0.1);
        }
        return ModelDraft.builder("spam", encoderHash)
                .pooling(Pooling.CLS)
                .maxSeqLen(64)
                .head(new ClassificationHead(w, new float[2], List.of("ham", "spam")))
                .build();
    }

    /** VmRSS of this process, from /proc. */
    private static long residentMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
                }
            }
        } catch (Exception e) {
            // not Linux
        }
        return -1;
    }

    private static long heapMb() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() >> 20;
    }

    /**
     * What the JVM's native memory tracking counts as committed (with
     * -XX:NativeMemoryTracking=summary) outside the Java heap, or -1: threads, classes, code, GC
     * structures, direct buffers. The heap is left out because it grows as the collector sees fit;
     * TensorFlow's own allocations are not tracked at all and show in the resident size only.
     */
    private static long nativeMb() {
        try {
            Object summary =
                    ManagementFactory.getPlatformMBeanServer()
                            .invoke(
                                    new ObjectName("com.sun.management:type=DiagnosticCommand"),
                                    "vmNativeMemory",
                                    new Object[] {new String[] {"summary"}},
                                    new String[] {String[].class.getName()});
            Matcher matcher = NMT_TOTAL.matcher(summary.toString());
            long heapCommitted =
                    ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted();
            return matcher.find()
                    ? (Long.parseLong(matcher.group(2)) * 1024 - heapCommitted) >> 20
                    : -1;
        } catch (Exception e) {
            return -1;
        }
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> options = new java.util.HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException(
                        "Expected --minutes, --swap-seconds, --rate or --sample-seconds, got "
                                + args[i]);
            }
            options.put(args[i].substring(2), args[i + 1]);
        }
        return options;
    }
}
