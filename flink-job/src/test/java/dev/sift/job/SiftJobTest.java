package dev.sift.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sift.job.config.JobArguments;
import dev.sift.job.config.SiftOptions;
import dev.sift.model.encode.EncoderPrecision;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job's command line: a config file, flags that win over it, and errors that say what to fix.
 */
class SiftJobTest {

    @Test
    void flagsOverrideTheConfigFileAndDefaultsFillTheRest(@TempDir Path dir) throws Exception {
        Path file =
                Files.writeString(
                        dir.resolve("sift.properties"),
                        "sift.kafka.bootstrap-servers=file:9092\nsift.batch.max-size=8\n");

        Configuration config =
                SiftJob.parseArgs(
                        "--config",
                        file.toString(),
                        "--sift.batch.max-size=16",
                        "--sift.sink.delivery-guarantee",
                        "at-least-once");

        assertThat(config.get(SiftOptions.BOOTSTRAP_SERVERS)).isEqualTo("file:9092");
        assertThat(config.get(SiftOptions.MAX_BATCH_SIZE)).isEqualTo(16);
        assertThat(config.get(SiftOptions.DELIVERY_GUARANTEE))
                .isEqualTo(DeliveryGuarantee.AT_LEAST_ONCE);
        assertThat(config.get(SiftOptions.MAX_WAIT)).isEqualTo(Duration.ofMillis(50));
        assertThat(config.get(SiftOptions.TRANSACTION_TIMEOUT)).isLessThan(Duration.ofMinutes(15));
    }

    @Test
    void anUnknownOptionNamesTheValidOnes() {
        assertThatThrownBy(() -> SiftJob.parseArgs("--sift.batch.size=3"))
                .hasMessageContaining("Unknown option: '--sift.batch.size=3'")
                .hasMessageContaining("did you mean --sift.batch.max-size");
        assertThatThrownBy(() -> SiftJob.parseArgs("--kafka=localhost:9092"))
                .hasMessageContaining("valid options: [sift.batch.look-ahead");
    }

    @Test
    void aFlagGivenTwiceKeepsTheLastAsScriptsThatAppendOverridesExpect() throws Exception {
        Configuration config =
                SiftJob.parseArgs("--sift.batch.max-size=8", "--sift.batch.max-size", "16");

        assertThat(config.get(SiftOptions.MAX_BATCH_SIZE)).isEqualTo(16);
    }

    @Test
    void anUnknownKeyInTheConfigFileIsNamedWithTheFile(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("sift.properties"), "sift.batch.size=3\n");

        assertThatThrownBy(() -> SiftJob.parseArgs("--config", file.toString()))
                .hasMessageContaining("Unknown option 'sift.batch.size' in " + file);
    }

    @Test
    void helpListsEveryOptionWithItsDefault() {
        String usage = JobArguments.usage();

        for (ConfigOption<?> option : SiftOptions.ALL) {
            assertThat(usage).contains("--" + option.key());
        }
        assertThat(usage).contains("Default: 32.").contains("--config");
        assertThat(JobArguments.helpRequested("--sift.registry=r", "--help")).isTrue();
        assertThat(JobArguments.helpRequested("--sift.registry=r")).isFalse();
    }

    @Test
    void aBadValueNamesTheOption() {
        assertThatThrownBy(() -> SiftJob.parseArgs("--sift.batch.max-size=many"))
                .hasMessageContaining("Bad value for sift.batch.max-size");
        assertThatThrownBy(() -> SiftJob.parseArgs("--sift.batch.max-size"))
                .hasMessageContaining(
                        "Missing required parameter for option '--sift.batch.max-size'");
        assertThatThrownBy(() -> SiftJob.parseArgs("sift.parallelism=2"))
                .hasMessageContaining("Unmatched argument")
                .hasMessageContaining("sift.parallelism=2");
    }

    @Test
    void theEncoderPrecisionReachesTheInferenceSettingsAndAnUnknownOneIsRefused() throws Exception {
        assertThat(SiftJob.inferenceSettings(SiftJob.parseArgs()).encoderPrecision())
                .isEqualTo(EncoderPrecision.FLOAT32);
        assertThat(
                        SiftJob.inferenceSettings(
                                        SiftJob.parseArgs("--sift.encoder.precision=bfloat16"))
                                .encoderPrecision())
                .isEqualTo(EncoderPrecision.BFLOAT16);

        assertThatThrownBy(() -> SiftJob.parseArgs("--sift.encoder.precision=fp16"))
                .hasMessageContaining("Bad value for sift.encoder.precision")
                .hasMessageContaining("float32")
                .hasMessageContaining("bfloat16");
    }

    @Test
    void everyOptionTheClassDeclaresIsKnownAndParses() throws Exception {
        List<ConfigOption<?>> declared = new ArrayList<>();
        for (Field field : SiftOptions.class.getFields()) {
            if (Modifier.isStatic(field.getModifiers()) && field.getType() == ConfigOption.class) {
                declared.add((ConfigOption<?>) field.get(null));
            }
        }
        assertThat(declared).hasSizeGreaterThan(15).contains(SiftOptions.BUFFER_TIMEOUT);

        for (ConfigOption<?> option : declared) {
            Configuration config = null;
            for (String value : sampleValues(option)) {
                try {
                    config = SiftJob.parseArgs("--" + option.key() + "=" + value);
                    break;
                } catch (IllegalArgumentException wrongType) {
                    // try the next kind of value
                }
            }
            assertThat(config).as(option.key() + " parses").isNotNull();
            assertThat(config.contains(option)).as(option.key()).isTrue();
            assertThat(config.get(option)).as(option.key()).isNotNull();
        }
    }

    /**
     * The option's default as Flink writes it; where it has none, plausible values of each kind
     * (Flink keeps an option's type to itself).
     */
    private static List<String> sampleValues(ConfigOption<?> option) {
        if (!option.hasDefaultValue()) {
            return List.of("broker:9092", "3", "/etc/sift/value");
        }
        Configuration written = new Configuration();
        @SuppressWarnings("unchecked")
        ConfigOption<Object> typed = (ConfigOption<Object>) option;
        written.set(typed, typed.defaultValue());
        String value = written.toMap().get(option.key());
        return List.of(value.isEmpty() ? "spam" : value);
    }

    @Test
    void theBrokerAddressIsRequired() throws Exception {
        Configuration config = SiftJob.parseArgs("--sift.registry=/tmp/r");

        assertThatThrownBy(
                        () ->
                                SiftJob.wire(
                                        StreamExecutionEnvironment.getExecutionEnvironment(),
                                        config))
                .hasMessageContaining(
                        "Missing sift.kafka.bootstrap-servers: Kafka brokers, host:port");
    }
}
