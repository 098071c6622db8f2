package dev.sift.sql.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The README's SQL is {@code examples/spam.sql}, statement for statement (comments and layout
 * aside), so what {@link ExampleSqlITCase} runs is what the README shows.
 */
class ReadmeSqlTest {

    private static final Pattern SQL_BLOCK = Pattern.compile("```sql\\n(.*?)```", Pattern.DOTALL);

    @Test
    void theReadmesSqlIsTheExampleThatRuns() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"), StandardCharsets.UTF_8);
        Matcher block = SQL_BLOCK.matcher(readme);
        assertThat(block.find()).as("the README's SQL block").isTrue();
        String example = Files.readString(Path.of("examples", "spam.sql"), StandardCharsets.UTF_8);

        assertThat(normalized(block.group(1))).isEqualTo(normalized(example));
    }

    private static List<String> normalized(String script) {
        String withoutComments = script.replaceAll("--[^\\n]*", "");
        return RunSql.statements(withoutComments).stream()
                .map(s -> s.replaceAll("\\s+", " ").replaceAll("\\( ", "(").replaceAll(" \\)", ")"))
                .toList();
    }
}
