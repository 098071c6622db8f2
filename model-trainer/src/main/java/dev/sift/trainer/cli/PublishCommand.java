package dev.sift.trainer.cli;

import dev.sift.model.registry.ModelBundle;
import dev.sift.trainer.publish.Publisher;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
        name = "publish",
        mixinStandardHelpOptions = true,
        description =
                "Publishes a training run as the next version of its model, unless it is worse"
                        + " than the published version by more than the margin.")
final class PublishCommand implements Callable<Integer> {

    @Mixin RegistryOption registry;

    @Option(names = "--run", required = true, description = "Run folder written by 'train'.")
    Path run;

    @Option(
            names = "--metric",
            defaultValue = "macro_f1",
            description = "Metric to compare (default ${DEFAULT-VALUE}).")
    String metric;

    @Option(
            names = "--margin",
            defaultValue = "0.005",
            description = "Largest drop in the metric tolerated (default ${DEFAULT-VALUE}).")
    double margin;

    @Option(names = "--force", description = "Publish even when worse.")
    boolean force;

    @Option(
            names = "--int8-top",
            description =
                    "Serve the fine-tuned top's matrix multiplies in 8-bit integers (ONNX"
                            + " encoders only): faster, with answers that move a little;"
                            + " measure them with 'evaluate'.")
    boolean int8Top;

    @Override
    public Integer call() throws Exception {
        try {
            ModelBundle bundle =
                    Publisher.publish(registry.open(), run, metric, margin, force, int8Top);
            System.out.printf(
                    "published %s v%d at %s (manifest SHA-256 %s)%n",
                    bundle.name(), bundle.version(), bundle.dir(), bundle.manifestSha256());
            List<String> next =
                    new ArrayList<>(
                            List.of(
                                    "--model",
                                    bundle.name(),
                                    "--version",
                                    Long.toString(bundle.version())));
            next.addAll(registry.asArgs());
            next.addAll(List.of("--bootstrap-servers", "HOST:PORT"));
            System.out.println(NextStep.line("announce", next));
            return 0;
        } catch (Publisher.RefusedException refused) {
            System.err.println("refused: " + refused.getMessage());
            return 1;
        }
    }
}
