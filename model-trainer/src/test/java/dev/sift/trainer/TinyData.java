package dev.sift.trainer;

import dev.sift.trainer.data.Example;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Small labeled sets in the tiny test encoder's vocabulary. */
public final class TinyData {

    private static final String[] SPAM = {
        "win", "cash", "prize", "free", "money", "offer", "buy", "cheap", "deal", "click", "now"
    };
    private static final String[] HAM = {
        "meeting",
        "tomorrow",
        "report",
        "project",
        "thanks",
        "please",
        "the",
        "day",
        "time",
        "hello",
        "good"
    };

    private TinyData() {}

    public static List<Example> spamAndHam(int perClass, long seed) {
        Random random = new Random(seed);
        List<Example> examples = new ArrayList<>();
        for (int i = 0; i < perClass; i++) {
            examples.add(Example.text(sentence(SPAM, random), "spam"));
            examples.add(Example.text(sentence(HAM, random), "ham"));
        }
        return examples;
    }

    private static String sentence(String[] words, Random random) {
        StringBuilder text = new StringBuilder();
        int n = 3 + random.nextInt(6);
        for (int w = 0; w < n; w++) {
            text.append(words[random.nextInt(words.length)]).append(' ');
        }
        return text.toString().trim();
    }
}
