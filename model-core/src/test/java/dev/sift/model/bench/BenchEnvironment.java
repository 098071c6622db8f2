package dev.sift.model.bench;

import ai.djl.engine.Engine;
import dev.sift.model.engine.TensorFlowNatives;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The machine and engine settings a benchmark ran on, printed above every table so that a figure
 * never travels without them: date, CPU model and cores, JVM, TensorFlow version and every thread
 * or precision setting that changes what TensorFlow does.
 */
public final class BenchEnvironment {

    private static final List<String> PROPERTIES =
            List.of(
                    "ai.djl.tensorflow.num_intraop_threads",
                    "ai.djl.tensorflow.num_interop_threads");
    private static final List<String> VARIABLES =
            List.of(
                    "TF_SET_ONEDNN_FPMATH_MODE",
                    "TF_ENABLE_ONEDNN_OPTS",
                    "OMP_NUM_THREADS",
                    "TF_NUM_INTRAOP_THREADS",
                    "TF_NUM_INTEROP_THREADS");

    private BenchEnvironment() {}

    /** Prints the environment as a short block of {@code key: value} lines. */
    public static void print(PrintStream out) {
        for (var line : describe().entrySet()) {
            out.printf(Locale.ROOT, "%s: %s%n", line.getKey(), line.getValue());
        }
    }

    public static Map<String, String> describe() {
        Map<String, String> lines = new TreeMap<>();
        lines.put(
                "date",
                ZonedDateTime.now()
                        .format(DateTimeFormatter.ISO_OFFSET_DATE_TIME)
                        .substring(0, 19));
        lines.put(
                "cpu",
                cpuModel()
                        + ", "
                        + Runtime.getRuntime().availableProcessors()
                        + " cores available");
        lines.put(
                "jvm",
                System.getProperty("java.vm.name")
                        + " "
                        + System.getProperty("java.version")
                        + ", max heap "
                        + Runtime.getRuntime().maxMemory() / (1 << 20)
                        + " MB");
        TensorFlowNatives.prepare(); // before the engine: DJL's own native download fails offline
        lines.put("engine", "TensorFlow " + Engine.getEngine("TensorFlow").getVersion());
        StringBuilder settings = new StringBuilder();
        for (String key : PROPERTIES) {
            settings.append(key).append('=').append(System.getProperty(key, "unset")).append(' ');
        }
        for (String key : VARIABLES) {
            settings.append(key).append('=').append(System.getenv().getOrDefault(key, "unset"));
            settings.append(' ');
        }
        lines.put("engine settings", settings.toString().trim());
        return lines;
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException e) {
            // Not Linux: the architecture is all there is to say.
        }
        return System.getProperty("os.arch");
    }
}
