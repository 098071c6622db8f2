package dev.sift.deploy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One Docker Compose project on the repository's compose file plus overrides, driven through the
 * Compose command line the machine has: {@code docker compose} (v2) where it answers, else {@code
 * docker-compose} (v1, 1.29 is Debian's). {@link #close()} removes it, volumes included.
 */
final class ComposeProject implements AutoCloseable {

    private final Path directory;
    private final List<String> base = new ArrayList<>();

    ComposeProject(Path directory, String name, List<Path> files) {
        this.directory = directory;
        base.addAll(composeCommand());
        base.addAll(List.of("--project-name", name));
        for (Path file : files) {
            base.addAll(List.of("--file", file.toString()));
        }
    }

    /** {@code docker compose} where the plugin answers, else {@code docker-compose}. */
    static List<String> composeCommand() {
        if (answers(List.of("docker", "compose", "version"))) {
            return List.of("docker", "compose");
        }
        if (answers(List.of("docker-compose", "version"))) {
            return List.of("docker-compose");
        }
        throw new IllegalStateException(
                "Neither `docker compose` nor `docker-compose` runs here; install one (Debian:"
                        + " apt-get install docker-compose)");
    }

    /** Runs a Compose command, echoing its output; returns the output, or fails with it. */
    String run(Duration timeout, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(base);
        command.addAll(List.of(args));
        return exec(command, directory, timeout);
    }

    /** Runs a command (docker, say), echoing its output; returns it, or fails with it. */
    static String exec(List<String> command, Path directory, Duration timeout)
            throws IOException, InterruptedException {
        System.out.println("$ " + String.join(" ", command));
        ProcessBuilder builder =
                new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true);
        // Compose v1 builds through the docker CLI (BuildKit: the Dockerfile mounts a cache).
        builder.environment().put("COMPOSE_DOCKER_CLI_BUILD", "1");
        builder.environment().put("DOCKER_BUILDKIT", "1");
        Process process = builder.start();
        StringBuilder output = new StringBuilder();
        Thread reader =
                new Thread(
                        () -> {
                            try (BufferedReader lines =
                                    new BufferedReader(
                                            new InputStreamReader(
                                                    process.getInputStream(),
                                                    StandardCharsets.UTF_8))) {
                                String line;
                                while ((line = lines.readLine()) != null) {
                                    System.out.println("  | " + line);
                                    synchronized (output) {
                                        output.append(line).append('\n');
                                    }
                                }
                            } catch (IOException e) {
                                // the process ended
                            }
                        });
        reader.start();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            reader.join(5_000);
            throw new IllegalStateException(
                    String.join(" ", command) + " did not finish within " + timeout);
        }
        reader.join(5_000);
        synchronized (output) {
            if (process.exitValue() != 0) {
                throw new IllegalStateException(
                        String.join(" ", command) + " exited with " + process.exitValue());
            }
            return output.toString();
        }
    }

    private static boolean answers(List<String> command) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            process.getInputStream().readAllBytes();
            return process.waitFor(30, TimeUnit.SECONDS) && process.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The last lines of every service's log, for a failure's report. */
    void printLogs(int lines) {
        try {
            run(Duration.ofMinutes(1), "logs", "--no-color", "--tail", String.valueOf(lines));
        } catch (Exception e) {
            System.out.println("(no logs: " + e.getMessage() + ")");
        }
    }

    /** Stops and removes the containers, the network and the volumes. */
    @Override
    public void close() throws IOException, InterruptedException {
        run(Duration.ofMinutes(3), "down", "--volumes", "--remove-orphans", "--timeout", "20");
    }
}
