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

    /** Requests read before they are classified and written: a large file streams through. */
    private static final int CHUNK = 1024;

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
        BatchClassifier classifier =
                new BatchClassifier(
                        BatchClassifier.DEFAULT_MAX_BATCH_SIZE,
                        BatchClassifier.DEFAULT_MAX_BATCH_TOKENS);
        PrintStream out =
                output == null
                        ? System.out
                        : new PrintStream(
                                Files.newOutputStream(output), false, StandardCharsets.UTF_8);
        int refused = 0;
        try (ServedVersionOptions.Served version = served.load();
                BufferedReader reader = open()) {
            LoadedModel model = version.model();
            List<ClassifyRequest> chunk = new ArrayList<>(CHUNK);
            long line = 0;
            for (String text = reader.readLine(); ; text = reader.readLine()) {
                if (text != null && !text.isBlank()) {
                    line++;
                    try {
                        chunk.add(validator.validate(raw(line, text)));
                    } catch (RecordDecodingException e) {
                        System.err.printf("line %d: %s: %s%n", line, e.code(), e.getMessage());
                        refused++;
                    }
                } else if (text != null) {
                    line++;
                }
                if (chunk.size() == CHUNK || (text == null && !chunk.isEmpty())) {
                    refused += classify(classifier, model, chunk, out);
                    chunk.clear();
                }
                if (text == null) {
                    break;
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

    /** Writes the results of {@code chunk}; returns how many requests were refused. */
    private static int classify(
            BatchClassifier classifier,
            LoadedModel model,
            List<ClassifyRequest> chunk,
            PrintStream out)
            throws IOException {
        int refused = 0;
        for (BatchClassifier.Outcome outcome :
                classifier.classifyAll(
                        chunk,
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
        return refused;
    }

    private RawRecord raw(long line, String text) throws IOException {
        byte[] value = plain ? plainRequest(line, text) : text.getBytes(StandardCharsets.UTF_8);
        return new RawRecord(input, 0, line, System.currentTimeMillis(), null, value);
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
