package dev.sift.trainer.cli;

import dev.sift.model.registry.ModelRegistry;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(
        name = "list",
        mixinStandardHelpOptions = true,
        description = "Lists the registry's models and versions with their headline metrics.")
final class ListCommand implements Callable<Integer> {

    @Mixin RegistryOption registry;

    @Override
    public Integer call() throws Exception {
        ModelRegistry models = registry.open();
        System.out.printf(
                "%-16s %7s %-7s %9s %9s %-12s %s%n",
                "model", "version", "pooling", "accuracy", "macro-F1", "encoder", "created");
        for (String name : models.models()) {
            for (long version : models.versions(name)) {
                try {
                    var manifest = models.open(name, version).manifest();
                    System.out.printf(
                            Locale.ROOT,
                            "%-16s %7d %-7s %9.4f %9.4f %-12s %s%n",
                            name,
                            version,
                            manifest.pooling().id(),
                            manifest.metrics().getOrDefault("accuracy", Double.NaN),
                            manifest.metrics().getOrDefault("macro_f1", Double.NaN),
                            manifest.encoder().contentHash().substring(0, 12),
                            manifest.createdAt());
                } catch (java.io.IOException e) {
                    System.out.printf("%-16s %7d REFUSED: %s%n", name, version, e.getMessage());
                }
            }
        }
        return 0;
    }
}
