package dev.sift.trainer.cli;

import dev.sift.model.registry.ModelRegistry;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/** The {@code --registry} option every subcommand that touches models shares. */
final class RegistryOption {

    private static final String DEFAULT = "registry";

    @Option(
            names = "--registry",
            defaultValue = DEFAULT,
            description = "Model registry folder (default: ${DEFAULT-VALUE}).")
    Path registry;

    ModelRegistry open() {
        return ModelRegistry.at(registry);
    }

    /** The option as the next command needs it: nothing where the default serves. */
    List<String> asArgs() {
        return registry.equals(Path.of(DEFAULT))
                ? List.of()
                : List.of("--registry", registry.toString());
    }
}
