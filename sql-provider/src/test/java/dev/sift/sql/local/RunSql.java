package dev.sift.sql.local;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableResult;

/**
 * Runs a SQL script on a local Flink (planner, Kafka SQL connector, JSON and the {@code sift} model
 * provider on the classpath), printing every query's rows as they come: the README's SQL without a
 * Flink distribution. {@code ${NAME}} in the script is replaced by the environment variable {@code
 * NAME}; statements end with a semicolon at the end of a line.
 *
 * <pre>
 * BOOTSTRAP_SERVERS=localhost:9092 REGISTRY=$PWD/registry mvn -q -pl sql-provider exec:exec@sql
 * </pre>
 */
public final class RunSql {

    private static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Z_][A-Z0-9_]*)}");

    private RunSql() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: RunSql <script.sql>");
            System.exit(2);
        }
        String script =
                substitute(
                        Files.readString(Path.of(args[0]), StandardCharsets.UTF_8), System::getenv);
        TableEnvironment sql = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
        for (String statement : statements(script)) {
            TableResult result = sql.executeSql(statement);
            if (result.getJobClient().isPresent()) {
                result.print(); // a query: prints rows as they arrive, until cancelled
            }
        }
    }

    /** Replaces each {@code ${NAME}} with {@code variables.apply(NAME)}. */
    public static String substitute(String script, Function<String, String> variables) {
        Matcher m = VARIABLE.matcher(script);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String value = variables.apply(m.group(1));
            if (value == null) {
                throw new IllegalArgumentException(
                        "The script uses ${" + m.group(1) + "}: set that environment variable");
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        return m.appendTail(out).toString();
    }

    /** Statements end with ';' at the end of a line; comment lines are dropped. */
    public static List<String> statements(String script) {
        List<String> statements = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : script.split("\n")) {
            if (line.strip().startsWith("--")) {
                continue;
            }
            current.append(line).append('\n');
            if (line.strip().endsWith(";")) {
                String statement = current.toString().strip();
                statements.add(statement.substring(0, statement.length() - 1));
                current.setLength(0);
            }
        }
        if (!current.toString().isBlank()) {
            statements.add(current.toString().strip());
        }
        return statements;
    }
}
