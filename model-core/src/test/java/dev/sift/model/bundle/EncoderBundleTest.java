package dev.sift.model.bundle;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Installing an encoder's files under their content hash, again and again. */
class EncoderBundleTest {

    @TempDir Path dir;

    @Test
    void reinstallingTheSameFilesRaisesAShorterMaxLengthAndNeverLowersIt() throws IOException {
        Path root = dir.resolve("_encoders");
        EncoderBundle first = EncoderBundle.install(staging("a"), draft(128), root);

        EncoderBundle raised = EncoderBundle.install(staging("b"), draft(512), root);
        EncoderBundle kept = EncoderBundle.install(staging("c"), draft(128), root);

        assertThat(raised.dir()).isEqualTo(first.dir());
        assertThat(raised.contentHash()).isEqualTo(first.contentHash());
        assertThat(raised.manifest().maxSeqLen()).isEqualTo(512);
        assertThat(kept.manifest().maxSeqLen()).isEqualTo(512);
        assertThat(EncoderBundle.open(first.dir()).manifest().createdAt())
                .isEqualTo(first.manifest().createdAt());
        assertThat(EncoderBundle.open(first.dir()).verify().manifest().files())
                .isEqualTo(first.manifest().files());
        try (var left = Files.list(root)) {
            assertThat(left).containsExactly(first.dir()); // no staging folder left behind
        }
    }

    /** The same two files each time, in a new staging folder. */
    private Path staging(String name) throws IOException {
        Path staging = Files.createDirectories(dir.resolve("staging-" + name));
        Files.createDirectories(staging.resolve("saved_model"));
        Files.write(staging.resolve("saved_model/saved_model.pb"), new byte[] {1, 2, 3});
        Files.writeString(staging.resolve("tokenizer.json"), "{}", StandardCharsets.UTF_8);
        return staging;
    }

    private static EncoderManifest draft(int maxSeqLen) {
        return EncoderManifest.builder("test-encoder", "built by a test")
                .savedModel(
                        "saved_model",
                        List.of("serve"),
                        "serving_default",
                        TensorNames.bertDefaults())
                .hiddenSize(32)
                .maxSeqLen(maxSeqLen)
                .tokenizer("tokenizer.json", true)
                .layers(3, 4, 64)
                .build();
    }
}
