package dev.sift.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.util.ExceptionUtils;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A model with bad options or columns fails when a query plans with it, with a message that names
 * what is wrong and what would be valid. Planning only: nothing is loaded, so no registry is
 * needed.
 */
class SiftModelProviderFactoryTest {

    private static final String INPUT = "text STRING";
    private static final String OUTPUT =
            "label STRING, score DOUBLE, probabilities MAP<STRING, DOUBLE>, model_version BIGINT";

    private TableEnvironment tables;

    @BeforeEach
    void tables() {
        tables = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
        tables.executeSql(
                "CREATE TEMPORARY VIEW mails AS SELECT * FROM (VALUES ('m-1', 'Win cash now',"
                        + " 'see attached', 7)) AS t(id, text, body, size)");
    }

    @Test
    void plansWithValidOptionsAndEveryOutputColumn() {
        create(
                INPUT,
                "label STRING, label_index INT, score DOUBLE, probabilities MAP<STRING, DOUBLE>,"
                        + " model_version BIGINT, encoder_hash STRING",
                options(
                        "version", "3",
                        "version.refresh-interval", "5 s",
                        "batch.max-size", "16",
                        "batch.max-tokens", "1024",
                        "batch.max-wait", "20 ms"));
        assertThatCode(() -> plan("text")).doesNotThrowAnyException();
    }

    @Test
    void plansAPairModelOnTwoColumns() {
        create("premise STRING, hypothesis STRING", "label STRING, score DOUBLE", options());
        assertThatCode(() -> plan("text, body")).doesNotThrowAnyException();
    }

    static Stream<Arguments> badOptions() {
        return Stream.of(
                Arguments.of(
                        options("version", "newest"),
                        "'version' must be 'announced', 'latest' or a version number (1, 2, ...),"
                                + " not 'newest'"),
                Arguments.of(options("version", "0"), "'version' must be 'announced', 'latest'"),
                Arguments.of(
                        options("public-key", "/no/such/key.pem"),
                        "'public-key' must name a readable Ed25519 public key file"),
                Arguments.of(
                        options("version", "latest", "public-key", "/no/such/key.pem"),
                        "'public-key' checks announcements, so it needs version 'announced'"),
                Arguments.of(options("max-text-bytes", "0"), "'max-text-bytes' must be at least 1"),
                Arguments.of(options("batch.max-size", "0"), "'batch.max-size' must be at least 1"),
                Arguments.of(
                        options("batch.max-tokens", "-5"), "'batch.max-tokens' must be at least 1"),
                Arguments.of(
                        options("version.refresh-interval", "0 ms"),
                        "'version.refresh-interval' must be a positive duration"),
                Arguments.of(options("model", "Spam!"), "'model' is invalid: Model name 'Spam!'"),
                // Flink's own checks, through FactoryUtil's helper:
                Arguments.of(
                        options("batch.max-size", "many"),
                        "Could not parse value 'many' for key 'batch.max-size'"),
                Arguments.of(
                        options("batch.size", "8"),
                        "Unsupported options:\n\nbatch.size\n\nSupported options:"),
                Arguments.of(without("registry"), "Missing required options are:\n\nregistry"));
    }

    @ParameterizedTest
    @MethodSource("badOptions")
    void badOptionFailsNamingTheOptionAndValidValues(Map<String, String> options, String message) {
        create(INPUT, OUTPUT, options);
        assertThat(planningError("text")).contains(message);
    }

    @Test
    void unknownOptionListsTheSupportedOnes() {
        create(INPUT, OUTPUT, options("batch.size", "8"));
        assertThat(planningError("text"))
                .contains(
                        "batch.max-size",
                        "batch.max-tokens",
                        "batch.max-wait",
                        "version",
                        "version.refresh-interval");
    }

    static Stream<Arguments> badColumns() {
        return Stream.of(
                Arguments.of(
                        "size INT",
                        OUTPUT,
                        "size",
                        "Sift model input column 'size' must be STRING, not INT"),
                Arguments.of(
                        "a STRING, b STRING, c STRING",
                        OUTPUT,
                        "text, body, id",
                        "takes one STRING input column (a text) or two (a sentence pair), but"
                                + " INPUT declares 3"),
                Arguments.of(
                        INPUT,
                        "label STRING, confidence DOUBLE",
                        "text",
                        "output column 'confidence' is not one Sift fills; valid output columns"
                            + " are: label STRING, label_index INT, score DOUBLE, probabilities"
                            + " MAP<STRING, DOUBLE>, model_version BIGINT, encoder_hash STRING"),
                Arguments.of(
                        INPUT,
                        "label STRING, score FLOAT",
                        "text",
                        "output column 'score' must be DOUBLE, not FLOAT"));
    }

    @ParameterizedTest
    @MethodSource("badColumns")
    void badColumnFailsNamingTheColumnAndWhatFits(
            String input, String output, String descriptor, String message) {
        create(input, output, options());
        assertThat(planningError(descriptor)).contains(message);
    }

    private void create(String input, String output, Map<String, String> options) {
        String with =
                options.entrySet().stream()
                        .map(e -> "'" + e.getKey() + "' = '" + e.getValue() + "'")
                        .collect(Collectors.joining(", "));
        tables.executeSql(
                "CREATE MODEL spam INPUT ("
                        + input
                        + ") OUTPUT ("
                        + output
                        + ") WITH ("
                        + with
                        + ")");
    }

    private void plan(String descriptor) {
        tables.explainSql(
                "SELECT * FROM ML_PREDICT(TABLE mails, MODEL spam, DESCRIPTOR("
                        + descriptor
                        + "))");
    }

    /** The messages of the planning failure and its causes, in one string. */
    private String planningError(String descriptor) {
        try {
            plan(descriptor);
        } catch (RuntimeException e) {
            return ExceptionUtils.stringifyException(e);
        }
        throw new AssertionError("Planning succeeded");
    }

    /** Valid options, with {@code overrides} (key, value, key, value, ...) applied. */
    static Map<String, String> options(String... overrides) {
        Map<String, String> options = new LinkedHashMap<>();
        options.put("provider", "sift");
        options.put("registry", "/shared/registry");
        options.put("model", "spam");
        for (int i = 0; i < overrides.length; i += 2) {
            options.put(overrides[i], overrides[i + 1]);
        }
        return options;
    }

    static Map<String, String> without(String key) {
        Map<String, String> options = options();
        options.remove(key);
        return options;
    }
}
