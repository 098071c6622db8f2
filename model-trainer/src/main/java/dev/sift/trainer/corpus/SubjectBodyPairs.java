package dev.sift.trainer.corpus;

import dev.sift.trainer.data.Example;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A sentence-pair task made from real mail: does this body belong to this subject? Each mail with a
 * subject and a body yields a {@code match} pair, and its subject with another mail's body (chosen
 * with the seed) a {@code mismatch} pair, so the classes are balanced. The body is cut to its first
 * {@code bodyChars} characters; BERT reads at most {@code max_seq_len} tokens anyway.
 */
public final class SubjectBodyPairs {

    public static final String MATCH = "match";
    public static final String MISMATCH = "mismatch";

    private SubjectBodyPairs() {}

    public static List<Example> build(List<Example> mails, long seed, int bodyChars) {
        List<Example> usable =
                mails.stream()
                        .filter(m -> !m.attributes().getOrDefault("subject", "").isBlank())
                        .filter(m -> !m.attributes().getOrDefault("body", "").isBlank())
                        .toList();
        if (usable.size() < 2) {
            throw new IllegalArgumentException(
                    "Need at least 2 mails with a subject and a body; the input has "
                            + usable.size()
                            + " (is it the output of 'corpus spamassassin'?)");
        }
        Random random = new Random(seed);
        List<Example> pairs = new ArrayList<>(2 * usable.size());
        for (int i = 0; i < usable.size(); i++) {
            Example mail = usable.get(i);
            int other = random.nextInt(usable.size() - 1);
            if (other >= i) {
                other++; // any mail but this one
            }
            String subject = mail.attributes().get("subject");
            String group = mail.attributes().getOrDefault("group", "");
            pairs.add(pair(subject, body(mail, bodyChars), MATCH, group));
            pairs.add(pair(subject, body(usable.get(other), bodyChars), MISMATCH, group));
        }
        return pairs;
    }

    private static String body(Example mail, int bodyChars) {
        String body = mail.attributes().get("body");
        return body.length() <= bodyChars ? body : body.substring(0, bodyChars);
    }

    private static Example pair(String subject, String body, String label, String group) {
        return new Example(subject, body, label, Map.of("group", group));
    }
}
