package dev.sift.trainer.corpus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.StringReader;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ArffTest {

    private static final Path REUTERS = Path.of("src/test/resources/reuters");

    @Test
    void readsQuotedStringsWithTheirEscapesAndSkipsComments() throws Exception {
        Arff arff = Arff.read(REUTERS.resolve("ReutersCorn-train.arff"));

        assertThat(arff.relation()).isEqualTo("Reuters-21578 Corn ModApte Train-tiny");
        assertThat(arff.attributes())
                .containsExactly(
                        new Arff.Attribute("Text", Arff.Type.STRING, List.of()),
                        new Arff.Attribute("class-att", Arff.Type.NOMINAL, List.of("0", "1")));
        assertThat(arff.rows()).hasSize(4);
        assertThat(arff.rows().get(0))
                .containsExactly(
                        "CORN EXPORTS RISE U.S. corn exports rose\nthis week, the USDA said.", "1");
        assertThat(arff.rows().get(1).get(0))
                .isEqualTo("WHEAT TENDER Egypt's wheat tender drew \"strong\" offers.");
        // A % inside quotes is text; after the row it starts a comment.
        assertThat(arff.rows().get(2))
                .containsExactly("BANK RATES Analysts said 5% rates\twould hold.", "0");
    }

    @Test
    void readsSparseRowsDoubleQuotesUpperCaseKeywordsAndGzip() throws Exception {
        Arff arff = Arff.read(REUTERS.resolve("ReutersGrain-test.arff.gz"));

        assertThat(arff.relation()).isEqualTo("Reuters-21578 Grain ModApte Test-tiny");
        assertThat(arff.rows().get(0))
                .containsExactly("GRAIN SHIPMENTS Grain shipments\r\nslowed.", "1");
        assertThat(arff.rows().get(1)).containsExactly("CORN BELT Corn planting began early.", "1");
    }

    @Test
    void sparseRowsLeaveOutZeroAndTheFirstNominalValue() throws Exception {
        Arff arff =
                parse(
                        "@relation r",
                        "@attribute n numeric",
                        "@attribute c {no,yes}",
                        "@attribute s string",
                        "@data",
                        "{2 text}");

        assertThat(arff.rows().get(0)).containsExactly("0", "no", "text");
    }

    @Test
    void anUnquotedQuestionMarkIsMissingAndAQuotedOneIsText() throws Exception {
        Arff arff =
                parse(
                        "@relation r",
                        "@attribute 'the text' string",
                        "@attribute n real",
                        "@data",
                        "?, 1.5",
                        "'?', ?");

        assertThat(arff.attributes().get(0).name()).isEqualTo("the text");
        assertThat(arff.rows().get(0)).containsExactly(null, "1.5");
        assertThat(arff.rows().get(1)).containsExactly("?", null);
    }

    @Test
    void unicodeEscapesAndEscapedBackslashes() throws Exception {
        Arff arff = parse("@relation r", "@attribute s string", "@data", "'caf\\u00e9 \\\\n'");

        assertThat(arff.rows().get(0).get(0)).isEqualTo("café \\n");
    }

    @Test
    void badFilesAreRefusedWithTheLine() {
        assertThatThrownBy(() -> parse("@relation r", "@attribute s string", "@data", "'open"))
                .isInstanceOf(Arff.FormatException.class)
                .hasMessageContaining("test:4: quote opened at column 1 is not closed");
        assertThatThrownBy(() -> parse("@relation r", "@attribute c {a,b}", "@data", "a", "c"))
                .hasMessageContaining("test:5: 'c' is not a value of c [a, b]");
        assertThatThrownBy(() -> parse("@relation r", "@attribute n numeric", "@data", "1, 2"))
                .hasMessageContaining("test:4: row has 2 values, expected 1");
        assertThatThrownBy(() -> parse("@relation r", "@attribute n numeric", "@data", "x"))
                .hasMessageContaining("test:4: 'x' is not a number (n)");
        assertThatThrownBy(() -> parse("@relation r", "@attribute n numeric"))
                .hasMessageContaining("no @data section");
        assertThatThrownBy(() -> parse("@relation r", "@attribute r relational", "@data"))
                .hasMessageContaining("unsupported type 'relational'");
    }

    private static Arff parse(String... lines) throws Exception {
        return Arff.parse(
                new BufferedReader(new StringReader(String.join("\n", Arrays.asList(lines)))),
                "test");
    }
}
