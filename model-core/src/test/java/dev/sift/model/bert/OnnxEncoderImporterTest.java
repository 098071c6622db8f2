package dev.sift.model.bert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sift.model.bundle.BundleException;
import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.EncoderEngine;
import dev.sift.model.bundle.EncoderManifest;
import dev.sift.model.bundle.Pooling;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Importing the small encoders from their Maven jars, and refusing jars that are not one. */
class OnnxEncoderImporterTest {

    @TempDir Path dir;
    @TempDir Path jars;

    static Path miniLmInt8Jar() throws IOException {
        return ImportEncoders.jarOf(
                OnnxEncoderImporterTest.class
                        .getClassLoader()
                        .getResource("all-minilm-l6-v2-q.onnx"));
    }

    @Test
    void importsMiniLmInt8WithWhatServingNeedsToKnow() throws IOException {
        EncoderBundle bundle = OnnxEncoderImporter.importJar(miniLmInt8Jar(), dir).verify();
        EncoderManifest manifest = bundle.manifest();

        assertThat(manifest.name()).isEqualTo("all-minilm-l6-v2-int8");
        assertThat(manifest.runtime()).isEqualTo(EncoderEngine.ONNX_RUNTIME);
        assertThat(manifest.weightPrecision()).isEqualTo("int8");
        assertThat(manifest.defaultPooling()).isEqualTo(Pooling.MEAN);
        assertThat(manifest.hiddenSize()).isEqualTo(384);
        assertThat(manifest.transformerLayers()).isEqualTo(6);
        assertThat(manifest.maxSeqLen()).isEqualTo(512);
        assertThat(bundle.graphFile()).exists();
        assertThat(bundle.dir().getFileName().toString()).isEqualTo(bundle.contentHash());
        // The same jar again: the same content, the same encoder.
        assertThat(OnnxEncoderImporter.importJar(miniLmInt8Jar(), dir).contentHash())
                .isEqualTo(bundle.contentHash());
    }

    @Test
    void refusesAJarWithoutAGraphOrTokenizer() throws IOException {
        Path jar = jar(Map.of("README", "just a readme".getBytes()));
        assertThatThrownBy(() -> OnnxEncoderImporter.importJar(jar, dir))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("has no *.onnx");

        Path noTokenizer = jar(Map.of("all-minilm-l6-v2-q.onnx", new byte[] {1}));
        assertThatThrownBy(() -> OnnxEncoderImporter.importJar(noTokenizer, dir))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("has no *tokenizer.json");
    }

    @Test
    void refusesAnotherVocabulary() throws IOException {
        ObjectNode tokenizer = realTokenizer();
        ObjectNode vocab = (ObjectNode) tokenizer.path("model").path("vocab");
        // Two words trade ids: every other token is where BERT has it.
        int the = vocab.get("the").asInt();
        int and = vocab.get("and").asInt();
        vocab.put("the", and);
        vocab.put("and", the);
        Path jar =
                jar(
                        Map.of(
                                "all-minilm-l6-v2-q.onnx",
                                new byte[] {1},
                                "all-minilm-l6-v2-q-tokenizer.json",
                                new ObjectMapper().writeValueAsBytes(tokenizer)));

        assertThatThrownBy(() -> OnnxEncoderImporter.importJar(jar, dir))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not BERT's uncased WordPiece vocabulary");
        assertThat(dir).isEmptyDirectory();
    }

    @Test
    void refusesAnUnknownEncoderAndAGraphThatDoesNotLoad() throws IOException {
        byte[] tokenizer = new ObjectMapper().writeValueAsBytes(realTokenizer());
        Path unknown = jar(Map.of("gpt-7.onnx", new byte[] {1}, "gpt-7-tokenizer.json", tokenizer));
        assertThatThrownBy(() -> OnnxEncoderImporter.importJar(unknown, dir))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("which Sift does not know");

        Path broken =
                jar(
                        Map.of(
                                "all-minilm-l6-v2-q.onnx",
                                "not a graph".getBytes(),
                                "all-minilm-l6-v2-q-tokenizer.json",
                                tokenizer));
        assertThatThrownBy(() -> OnnxEncoderImporter.importJar(broken, dir))
                .isInstanceOf(BundleException.class)
                .hasMessageContaining("does not load in ONNX Runtime");
    }

    private static ObjectNode realTokenizer() throws IOException {
        try (ZipFile zip = new ZipFile(miniLmInt8Jar().toFile());
                InputStream in =
                        zip.getInputStream(zip.getEntry("all-minilm-l6-v2-q-tokenizer.json"))) {
            return (ObjectNode) new ObjectMapper().readTree(in);
        }
    }

    private Path jar(Map<String, byte[]> entries) throws IOException {
        Path jar = Files.createTempFile(jars, "encoder-", ".jar");
        try (OutputStream out = Files.newOutputStream(jar);
                ZipOutputStream zip = new ZipOutputStream(out)) {
            for (Map.Entry<String, byte[]> entry : entries.entrySet()) {
                zip.putNextEntry(new ZipEntry(entry.getKey()));
                zip.write(entry.getValue());
                zip.closeEntry();
            }
        }
        return jar;
    }
}
