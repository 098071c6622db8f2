package dev.sift.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's Quick start, the demo itself, on the real bge-small (its default encoder), the real
 * SpamAssassin mails, an in-process broker and a local Flink: shorter than its defaults (30 mails
 * per group for the version trained midway instead of 120, and seconds instead of half-minutes
 * between its steps), but every step of it, the live swap included.
 */
class DemoITCase {

    private static final Pattern AGREEMENT =
            Pattern.compile("shadow v3 agreed with v2 on (\\d+) of (\\d+) mails");
    private static final Pattern LIVE_ACCURACY =
            Pattern.compile(
                    "live accuracy from feedback: v2 ([0-9.]+) on (\\d+) mails, v3 ([0-9.]+) on"
                            + " (\\d+) mails");

    private static final Pattern TALLY =
            Pattern.compile(
                    "sent (\\d+), answered (\\d+), missing 0, duplicated 0; by version v1 [^:]+:"
                            + " (\\d+), v2 [^:]+: (\\d+)");

    @TempDir Path dir;

    @Test
    void everyMailIsAnsweredOnceAcrossTheLiveSwap() throws Exception {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8);

        Demo.run(
                DemoArgs.parse(
                        "--registry", dir.resolve("registry").toString(),
                        "--duration", "1s",
                        "--rate", "6",
                        "--swap-after", "10s",
                        "--tally-after", "15s",
                        "--shadow-for", "10s",
                        "--train-per-group", "30"),
                out);

        String output = printed.toString(StandardCharsets.UTF_8);
        System.out.println(output);
        assertThat(output).contains("announced spam v2, fine-tuned top 2 layers");
        assertThat(output).contains("announced spam v3 as the shadow of v2");
        Matcher agreement = AGREEMENT.matcher(output);
        assertThat(agreement.find()).as("the shadow's agreement, from the job's metrics").isTrue();
        assertThat(Integer.parseInt(agreement.group(2))).as("mails compared").isPositive();
        Matcher accuracy = LIVE_ACCURACY.matcher(output);
        assertThat(accuracy.find()).as("live accuracy per version, from feedback").isTrue();
        assertThat(Integer.parseInt(accuracy.group(2))).as("v2 answers judged").isPositive();
        assertThat(Integer.parseInt(accuracy.group(4))).as("v3 answers judged").isPositive();
        assertThat(output).containsAnyOf("promoted v3", "stopped the shadow");
        Matcher tally = TALLY.matcher(output);
        assertThat(tally.find()).as("the tally line").isTrue();
        int sent = Integer.parseInt(tally.group(1));
        assertThat(sent).isGreaterThan(30);
        assertThat(Integer.parseInt(tally.group(2))).isEqualTo(sent);
        assertThat(Integer.parseInt(tally.group(4))).as("answers by the new version").isPositive();
    }
}
