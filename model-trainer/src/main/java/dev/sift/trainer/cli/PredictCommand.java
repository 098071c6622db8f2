package dev.sift.trainer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.OutputFormat;
import dev.sift.schemas.RecordDecodingException;
import dev.sift.serving.classify.BatchClassifier;
import dev.sift.serving.models.LoadedModel;
import dev.sift.serving.request.ClassifyRequest;
import dev.sift.serving.request.RawRecord;
import dev.sift.serving.request.RequestLimits;
import dev.sift.serving.request.RequestValidator;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code sift-trainer predict}: classifies requests with a published version through the job's own
 * validator, loader and batch classifier, and prints one result per line in the job's JSON result
 * format. A request the job would dead-letter is reported on standard error with its code.
 */
@Command(
        name = "predict",
        description = {
            "Classifies texts or sentence pairs with a published version and prints the job's JSON"
                    + " results, one per line.",
            "Input lines are the job's JSON requests ({\"id\":..,\"text\":..} or"
                    + " {\"id\":..,\"textA\":..,\"textB\":..}), or plain texts with --plain."
        })
final class PredictCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Mixin HelpOption help;

    @Mixin ServedVersionOptions served;

    @Option(
            names = "--input",
            defaultValue = "-",
            description = "File of requests, one per line; - for standard input (the default).")
    String input;

    @Option(names = "--output", description = "File for the results (default: standard output).")
    Path output;

    @Option(
            names = "--plain",
            description = "Each input line is a text; its id is its line number.")
    boolean plain;

    @Override
    public Integer call() throws Exception {
        RequestValidator validator = new RequestValidator(RequestLimits.DEFAULTS);
        List<ClassifyRequest> requests = new ArrayList<>();
        int refused = 0;
        long line = 0;
        try (BufferedReader reader = open()) {
            for (String text = reader.readLine(); text != null; text = reader.readLine()) {
                line++;
                if (text.isBlank()) {
                    continue;
                }
                byte[] value =
                        plain ? plainRequest(line, text) : text.getBytes(StandardCharsets.UTF_8);
                RawRecord raw =
                        new RawRecord(input, 0, line, System.currentTimeMillis(), null, value);
                try {
                    requests.add(validator.validate(raw));
                } catch (RecordDecodingException e) {
                    System.err.printf("line %d: %s: %s%n", line, e.code(), e.getMessage());
                    refused++;
                }
            }
        }
        PrintStream out =
                output == null
                        ? System.out
                        : new PrintStream(
                                Files.newOutputStream(output), false, StandardCharsets.UTF_8);
        try (ServedVersionOptions.Served version = served.load()) {
            LoadedModel model = version.model();
            BatchClassifier classifier =
                    new BatchClassifier(
                            BatchClassifier.DEFAULT_MAX_BATCH_SIZE,
                            BatchClassifier.DEFAULT_MAX_BATCH_TOKENS);
            for (BatchClassifier.Outcome outcome :
                    classifier.classifyAll(
                            requests,
                            Map.of(model.name(), model),
                            List.of(model.name()),
                            Clock.systemUTC())) {
                if (outcome.refused()) {
                    System.err.printf(
                            "line %d: %s: %s%n",
                            outcome.request().offset, outcome.errorCode(), outcome.reason());
                    refused++;
                    continue;
                }
                for (ClassificationResult result : outcome.results()) {
                    out.write(OutputFormat.JSON.results().encode(result));
                    out.write('\n');
                }
            }
        } finally {
            out.flush();
            if (out != System.out) {
                out.close();
            }
        }
        return refused == 0 ? 0 : 1;
    }

    private BufferedReader open() throws IOException {
        return input.equals("-")
                ? new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))
                : Files.newBufferedReader(Path.of(input), StandardCharsets.UTF_8);
    }

    private static byte[] plainRequest(long line, String text) throws IOException {
        ObjectNode request = JSON.createObjectNode();
        request.put("id", Long.toString(line));
        request.put("text", text);
        return JSON.writeValueAsBytes(request);
    }
}
