package dev.sift.trainer.cli;

import dev.sift.model.registry.ModelRegistry;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The {@code --registry} option every subcommand that touches models shares. */
final class RegistryOption {

    @Option(
            names = "--registry",
            defaultValue = "registry",
            description = "Model registry folder (default: ${DEFAULT-VALUE}).")
    Path registry;

    ModelRegistry open() {
        return ModelRegistry.at(registry);
    }
}
