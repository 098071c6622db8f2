package dev.sift.deploy;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real browser for tests: Chromium (or Chrome) run headless, one process per page, that dumps a
 * page's DOM after it rendered or takes a screenshot of it. Debian's package is {@code chromium};
 * {@code -Dsift.chromium=/path/to/chrome} picks another executable.
 *
 * <pre>{@code
 * HeadlessBrowser browser = HeadlessBrowser.find(Path.of("target/browser"));
 * String dom = browser.dumpDom("http://127.0.0.1:9090/consoles/sift.html");
 * }</pre>
 */
final class HeadlessBrowser {

    private static final List<String> NAMES =
            List.of("chromium", "chromium-browser", "google-chrome", "google-chrome-stable");
    private static final Duration TIMEOUT = Duration.ofSeconds(90);

    private final Path executable;
    private final Path workDir;

    private HeadlessBrowser(Path executable, Path workDir) {
        this.executable = executable;
        this.workDir = workDir;
    }

    /**
     * The browser of {@code -Dsift.chromium}, or the first of chromium, chromium-browser,
     * google-chrome on the PATH; fails saying how to install one. {@code workDir} holds its profile
     * and logs.
     */
    static HeadlessBrowser find(Path workDir) throws IOException {
        String configured = System.getProperty("sift.chromium");
        if (configured != null && !configured.isBlank()) {
            Path path = Path.of(configured);
            if (!Files.isExecutable(path)) {
                throw new IllegalStateException(
                        "-Dsift.chromium=" + configured + " is not an executable file");
            }
            return new HeadlessBrowser(path, Files.createDirectories(workDir));
        }
        String pathVariable = System.getenv().getOrDefault("PATH", "");
        for (String name : NAMES) {
            for (String dir : pathVariable.split(File.pathSeparator)) {
                Path candidate = Path.of(dir, name);
                if (!dir.isEmpty() && Files.isExecutable(candidate)) {
                    return new HeadlessBrowser(candidate, Files.createDirectories(workDir));
                }
            }
        }
        throw new IllegalStateException(
                "No Chromium on this machine (looked for "
                        + String.join(", ", NAMES)
                        + " on the PATH): the compose stack test opens the console page in a"
                        + " real browser. Install Debian's (apt-get install -y chromium) or point"
                        + " -Dsift.chromium at a Chromium or Chrome executable.");
    }

    /** The DOM of the page at {@code url} once it loaded, serialized as HTML. */
    String dumpDom(String url) throws IOException, InterruptedException {
        Path dom = workDir.resolve("dom.html");
        run(dom, "--dump-dom", url);
        return Files.readString(dom, StandardCharsets.UTF_8);
    }

    /** A PNG screenshot of the page at {@code url}, {@code width} x {@code height} pixels. */
    void screenshot(String url, Path png, int width, int height)
            throws IOException, InterruptedException {
        Files.createDirectories(png.toAbsolutePath().getParent());
        Files.deleteIfExists(png);
        run(
                workDir.resolve("screenshot.out"),
                "--screenshot=" + png.toAbsolutePath(),
                "--window-size=" + width + "," + height,
                "--hide-scrollbars",
                url);
    }

    /** Runs the browser once, its standard output into {@code stdout}, its log beside it. */
    private void run(Path stdout, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(executable.toString());
        command.add("--headless");
        // Root (CI's containers) cannot use Chromium's sandbox; the pages are our own, local.
        command.add("--no-sandbox");
        command.add("--disable-gpu");
        // Its own profile: a fresh one per test run, none of the user's, no first-run dialogs.
        command.add("--user-data-dir=" + workDir.resolve("profile").toAbsolutePath());
        command.add("--no-first-run");
        command.addAll(List.of(args));
        Path log = workDir.resolve("chromium.log");
        System.out.println("$ " + String.join(" ", command));
        Process process =
                new ProcessBuilder(command)
                        .redirectOutput(stdout.toFile())
                        .redirectError(log.toFile())
                        .start();
        if (!process.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException(
                    executable + " did not finish within " + TIMEOUT + "; its log: " + tail(log));
        }
        if (process.exitValue() != 0) {
            throw new IllegalStateException(
                    executable + " exited with " + process.exitValue() + "; its log: " + tail(log));
        }
    }

    private static String tail(Path log) throws IOException {
        List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    }
}
