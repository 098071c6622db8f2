package dev.sift.model.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TensorFlowNativesTest {

    @Test
    void preparesAFolderHoldingAllThreeLibraries() {
        Path folder = TensorFlowNatives.prepare();

        for (String library : TensorFlowNatives.LIBRARIES) {
            assertThat(folder.resolve(library)).isRegularFile();
        }
        assertThat(TensorFlowNatives.prepare()).isSameAs(folder);
    }

    @Test
    void saysWhatIsMissingWhenTheNativesJarIsAbsent() {
        ClassLoader empty = new URLClassLoader(new URL[0], null);

        assertThatThrownBy(() -> TensorFlowNatives.findPlatform(empty))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(
                        "org.tensorflow:tensorflow-core-native:<version>:linux-x86_64")
                .hasMessageContaining("libjnitensorflow.so")
                .hasMessageContaining(TensorFlowNatives.LIBRARY_PATH);
    }

    @Test
    void saysWhichLibraryAConfiguredFolderLacks(@TempDir Path folder) throws Exception {
        Files.createFile(folder.resolve("libjnitensorflow.so"));

        assertThatThrownBy(() -> TensorFlowNatives.requireLibraries(folder, "configured"))
                .hasMessageContaining("configured lacks libtensorflow_cc.so.2");
    }

    /** Two JVMs starting together on an empty home: one extracts, the other waits and reuses. */
    @Test
    void concurrentJvmsExtractOnceAndBothLoad(@TempDir Path home) throws Exception {
        List<Process> jvms = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            jvms.add(
                    new ProcessBuilder(
                                    Path.of(System.getProperty("java.home"), "bin", "java")
                                            .toString(),
                                    "-Dsift.home=" + home,
                                    "-cp",
                                    System.getProperty("java.class.path"),
                                    PrepareNatives.class.getName())
                            .redirectErrorStream(true)
                            .start());
        }
        for (Process jvm : jvms) {
            String output = new String(jvm.getInputStream().readAllBytes());
            assertThat(jvm.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(jvm.exitValue()).as(output).isZero();
            assertThat(output).contains("TensorFlow 2.16.1");
        }
        try (var natives = Files.list(home.resolve("natives"))) {
            assertThat(natives.map(p -> p.getFileName().toString()))
                    .as("one extracted folder and its lock, no staging left")
                    .hasSize(2)
                    .anyMatch(name -> name.endsWith(".lock"));
        }
    }
}
