package dev.sift.trainer.cli;

import dev.sift.schemas.AnnouncementSignatures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "keygen",
        mixinStandardHelpOptions = true,
        description =
                "Writes an Ed25519 key pair for signed announcements: <name>.pem (keep private)"
                        + " and <name>.pub (give to the job).")
final class KeygenCommand implements Callable<Integer> {

    @Option(names = "--out", required = true, description = "Folder to write the keys into.")
    Path out;

    @Option(
            names = "--name",
            defaultValue = "sift-announce",
            description = "File name stem (default ${DEFAULT-VALUE}).")
    String name;

    @Override
    public Integer call() throws Exception {
        Files.createDirectories(out);
        Path privateKey = out.resolve(name + ".pem");
        if (Files.exists(privateKey)) {
            throw new IllegalArgumentException(privateKey + " exists; refusing to overwrite a key");
        }
        var keys = AnnouncementSignatures.generateKeyPair();
        AnnouncementSignatures.writePem(privateKey, "PRIVATE KEY", keys.getPrivate().getEncoded());
        AnnouncementSignatures.writePem(
                out.resolve(name + ".pub"), "PUBLIC KEY", keys.getPublic().getEncoded());
        System.out.println("wrote " + privateKey + " and " + out.resolve(name + ".pub"));
        return 0;
    }
}
