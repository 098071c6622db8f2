package dev.sift.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Drives {@code deploy/local-cluster.sh}, the way a user would, and reads the cluster's REST API.
 * Every command's output is echoed, so a test log shows the cluster's own words.
 */
final class LocalCluster implements AutoCloseable {

    private static final Pattern JOB_ID = Pattern.compile("JobID ([0-9a-f]{32})");
    private static final Pattern SAVEPOINT = Pattern.compile("Savepoint completed\\. Path: (\\S+)");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path script;
    private final Path dist;
    private final Path workDir;
    private final int restPort;
    private final String extraConf;
    private final HttpClient http = HttpClient.newHttpClient();
    private boolean started;
    private String runOptions = "";

    LocalCluster(Path script, Path dist, Path workDir) {
        this(script, dist, workDir, "");
    }

    /** A cluster whose configuration has {@code extraConf} (config.yaml lines) appended. */
    LocalCluster(Path script, Path dist, Path workDir, String extraConf) {
        this.script = script;
        this.dist = dist;
        this.workDir = workDir;
        this.extraConf = extraConf;
        this.restPort = freePort();
    }

    /**
     * Extra options for {@code flink run} on later submits and resumes ({@code SIFT_RUN_OPTIONS}).
     */
    void runOptions(String options) {
        this.runOptions = options;
    }

    Path workDir() {
        return workDir;
    }

    String dashboard() {
        return "http://localhost:" + restPort;
    }

    void start() {
        started = true;
        run("start");
    }

    /** Submits the job jar detached and returns the job id. */
    String submit(List<String> jobArgs) {
        return jobId(run(concat(List.of("submit"), jobArgs)));
    }

    /** Stops the job with a savepoint and returns the savepoint's path. */
    String stopWithSavepoint(String jobId) {
        Matcher matcher = SAVEPOINT.matcher(run("stop-job", jobId));
        if (!matcher.find()) {
            throw new IllegalStateException("stop-job printed no savepoint path");
        }
        return matcher.group(1);
    }

    String resume(String savepoint, List<String> jobArgs) {
        return jobId(run(concat(List.of("resume", savepoint), jobArgs)));
    }

    /** Starts one more TaskManager and waits until it registered; returns its name. */
    String addTaskManager() {
        return addTaskManager(List.of());
    }

    /**
     * As {@link #addTaskManager()}, the script run under {@code prefix} (a command that runs the
     * rest of its arguments, such as {@code unshare}); the TaskManager's JVM inherits what the
     * prefix sets up.
     */
    String addTaskManager(List<String> prefix) {
        Matcher matcher =
                Pattern.compile("(taskmanager-\\d+) registered")
                        .matcher(run(prefix, List.of("add-taskmanager")));
        if (!matcher.find()) {
            throw new IllegalStateException("add-taskmanager named no TaskManager");
        }
        return matcher.group(1);
    }

    /** The TaskManagers whose processes are alive, by the script's names (taskmanager-1, ...). */
    List<String> liveTaskManagers() {
        List<String> names = new ArrayList<>();
        try (var pids = Files.list(workDir.resolve("pids"))) {
            for (Path file : pids.sorted().toList()) {
                String name = file.getFileName().toString().replace(".pid", "");
                if (name.startsWith("taskmanager-")
                        && ProcessHandle.of(pid(name)).map(ProcessHandle::isAlive).orElse(false)) {
                    names.add(name);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return names;
    }

    /** {@code kill -9} of a cluster process by its pid file: no shutdown hook, no goodbye. */
    void kill(String process) throws InterruptedException {
        ProcessHandle handle =
                ProcessHandle.of(pid(process))
                        .orElseThrow(() -> new IllegalStateException(process + " is not running"));
        System.out.printf("kill -9 %s (pid %d)%n", process, handle.pid());
        handle.destroyForcibly(); // SIGKILL on Unix
        handle.onExit().orTimeout(30, TimeUnit.SECONDS).join();
    }

    /** The process id of a cluster process, by its pid file. */
    long pid(String process) {
        try {
            return Long.parseLong(
                    Files.readString(workDir.resolve("pids").resolve(process + ".pid")).trim());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Cancels a job through the REST API and waits until it is CANCELED. */
    void cancel(String jobId) {
        HttpRequest request =
                HttpRequest.newBuilder(URI.create(dashboard() + "/jobs/" + jobId + "?mode=cancel"))
                        .method("PATCH", HttpRequest.BodyPublishers.noBody())
                        .timeout(Duration.ofSeconds(10))
                        .build();
        try {
            http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline
                && !get("/jobs/" + jobId).path("state").asText().equals("CANCELED")) {
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    @Override
    public void close() {
        if (started) {
            run("stop");
            started = false;
        }
    }

    /** Prints the end of every process's log: what a failed test needs to be understood. */
    void printLogTails(int lines) {
        try (var logs = Files.list(workDir.resolve("log"))) {
            for (Path log : logs.filter(f -> f.toString().endsWith(".log")).sorted().toList()) {
                List<String> all = Files.readAllLines(log);
                System.out.printf(
                        "--- %s (last %d lines)%n%s%n",
                        log.getFileName(),
                        lines,
                        String.join(
                                "\n", all.subList(Math.max(0, all.size() - lines), all.size())));
            }
        } catch (IOException e) {
            System.out.println("No logs to show: " + e);
        }
    }

    /** Waits until every task of the job runs. */
    void awaitRunning(String jobId, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            JsonNode job = get("/jobs/" + jobId);
            last = job.path("state").asText();
            if (last.equals("RUNNING") && allVerticesRunning(job)) {
                return;
            }
            if (last.equals("FAILED")) {
                throw new IllegalStateException(
                        "Job " + jobId + " failed: " + get("/jobs/" + jobId + "/exceptions"));
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException(
                "Job " + jobId + " not running after " + timeout + ": " + last);
    }

    private static boolean allVerticesRunning(JsonNode job) {
        for (JsonNode vertex : job.path("vertices")) {
            if (!vertex.path("status").asText().equals("RUNNING")) {
                return false;
            }
        }
        return true;
    }

    JsonNode get(String path) {
        HttpRequest request =
                HttpRequest.newBuilder(URI.create(dashboard() + path))
                        .timeout(Duration.ofSeconds(10))
                        .build();
        try {
            HttpResponse<String> response =
                    http.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException(
                        "GET "
                                + path
                                + " answered "
                                + response.statusCode()
                                + ": "
                                + response.body());
            }
            return JSON.readTree(response.body());
        } catch (IOException e) {
            throw new UncheckedIOException("GET " + path, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private String run(String... args) {
        return run(List.of(args));
    }

    private String run(List<String> args) {
        return run(List.of(), args);
    }

    private String run(List<String> prefix, List<String> args) {
        List<String> command = new ArrayList<>(prefix);
        command.add("bash");
        command.add(script.toString());
        command.addAll(args);
        try {
            // Output to a file, not a pipe, so that the time limit below holds even if the
            // script hangs without closing its output.
            Path log = Files.createTempFile("local-cluster", ".out");
            ProcessBuilder builder =
                    new ProcessBuilder(command)
                            .redirectErrorStream(true)
                            .redirectOutput(log.toFile());
            builder.environment().put("SIFT_FLINK_DIST", dist.toString());
            builder.environment().put("SIFT_CLUSTER_DIR", workDir.toString());
            builder.environment().put("SIFT_REST_PORT", Integer.toString(restPort));
            builder.environment().put("SIFT_FLINK_CONF", TEST_CONF + "\n" + extraConf);
            builder.environment().put("SIFT_RUN_OPTIONS", runOptions);
            Process process = builder.start();
            boolean finished = process.waitFor(5, TimeUnit.MINUTES);
            if (!finished) {
                process.destroyForcibly().waitFor();
            }
            String output = Files.readString(log);
            Files.delete(log);
            System.out.printf("$ local-cluster.sh %s%n%s", String.join(" ", args), output);
            if (!finished || process.exitValue() != 0) {
                throw new IllegalStateException(
                        "local-cluster.sh "
                                + args
                                + (finished ? " exited " + process.exitValue() : " timed out")
                                + ":\n"
                                + output);
            }
            return output;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * The test's cluster: the shipped configuration with a smaller TaskManager (the tiny test
     * encoder needs no BERT-sized budget) and quick checkpoints, so read_committed results come
     * fast.
     */
    private static final String TEST_CONF =
            String.join(
                    "\n",
                    "taskmanager.memory.process.size: 1200m",
                    "taskmanager.memory.task.off-heap.size: 256m",
                    "execution.checkpointing.interval: 1s");

    private static String jobId(String output) {
        Matcher matcher = JOB_ID.matcher(output);
        if (!matcher.find()) {
            throw new IllegalStateException("No job id in:\n" + output);
        }
        return matcher.group(1);
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
