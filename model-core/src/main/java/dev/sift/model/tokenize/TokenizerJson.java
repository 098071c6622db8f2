package dev.sift.model.tokenize;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a HuggingFace {@code tokenizer.json} for a BERT WordPiece vocabulary ({@code vocab.txt},
 * one token per line, the line number being the id). Google's SavedModels ship only the vocabulary;
 * this reproduces BERT's own tokenization: the BERT normalizer (clean text, split CJK characters,
 * optional lower-casing with accent stripping), the BERT pre-tokenizer (whitespace and
 * punctuation), greedy longest-match WordPiece with {@code ##} continuations, and the {@code [CLS]
 * a [SEP]} / {@code [CLS] a [SEP] b [SEP]} templates with segment ids 0 and 1.
 */
public final class TokenizerJson {

    static final List<String> SPECIAL_TOKENS =
            List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]");

    private TokenizerJson() {}

    public static void write(Path vocabFile, boolean lowerCase, Path target) throws IOException {
        List<String> vocab = Files.readAllLines(vocabFile, StandardCharsets.UTF_8);
        Files.write(target, toBytes(vocab, lowerCase));
    }

    /** Writes the tokenizer of {@code vocab}, listed in id order. */
    public static void write(List<String> vocab, boolean lowerCase, Path target)
            throws IOException {
        Files.write(target, toBytes(vocab, lowerCase));
    }

    static byte[] toBytes(List<String> vocab, boolean lowerCase) throws IOException {
        Map<String, Integer> ids = new LinkedHashMap<>();
        for (int id = 0; id < vocab.size(); id++) {
            String token = vocab.get(id);
            if (token.isEmpty()) {
                continue; // a trailing newline, not a token
            }
            if (ids.putIfAbsent(token, id) != null) {
                throw new IOException(
                        "vocab.txt lists '" + token + "' twice (line " + (id + 1) + ")");
            }
        }
        for (String special : SPECIAL_TOKENS) {
            if (!ids.containsKey(special)) {
                throw new IOException("vocab.txt lacks the special token " + special);
            }
        }

        Map<String, Object> root = new LinkedHashMap<>();
        root.put("version", "1.0");
        root.put("truncation", null);
        root.put("padding", null);
        root.put("added_tokens", addedTokens(ids));
        root.put(
                "normalizer",
                object(
                        "type",
                        "BertNormalizer",
                        "clean_text",
                        true,
                        "handle_chinese_chars",
                        true,
                        // null: strip accents exactly when lower-casing, as BERT's uncased models
                        // do
                        "strip_accents",
                        null,
                        "lowercase",
                        lowerCase));
        root.put("pre_tokenizer", object("type", "BertPreTokenizer"));
        root.put("post_processor", template(ids));
        root.put("decoder", object("type", "WordPiece", "prefix", "##", "cleanup", true));
        root.put(
                "model",
                object(
                        "type", "WordPiece",
                        "unk_token", "[UNK]",
                        "continuing_subword_prefix", "##",
                        "max_input_chars_per_word", 100,
                        "vocab", ids));
        return new ObjectMapper()
                .disable(SerializationFeature.INDENT_OUTPUT)
                .writeValueAsBytes(root);
    }

    private static List<Object> addedTokens(Map<String, Integer> ids) {
        List<Object> added = new ArrayList<>();
        for (String special : SPECIAL_TOKENS) {
            added.add(
                    object(
                            "id", ids.get(special),
                            "content", special,
                            "single_word", false,
                            "lstrip", false,
                            "rstrip", false,
                            "normalized", false,
                            "special", true));
        }
        return added;
    }

    private static Map<String, Object> template(Map<String, Integer> ids) {
        Object cls0 = special("[CLS]", 0);
        Object sep0 = special("[SEP]", 0);
        Object sep1 = special("[SEP]", 1);
        return object(
                "type", "TemplateProcessing",
                "single", List.of(cls0, sequence("A", 0), sep0),
                "pair", List.of(cls0, sequence("A", 0), sep0, sequence("B", 1), sep1),
                "special_tokens",
                        object(
                                "[CLS]", specialToken("[CLS]", ids),
                                "[SEP]", specialToken("[SEP]", ids)));
    }

    private static Object special(String token, int typeId) {
        return object("SpecialToken", object("id", token, "type_id", typeId));
    }

    private static Object sequence(String id, int typeId) {
        return object("Sequence", object("id", id, "type_id", typeId));
    }

    private static Object specialToken(String token, Map<String, Integer> ids) {
        return object("id", token, "ids", List.of(ids.get(token)), "tokens", List.of(token));
    }

    /** An insertion-ordered JSON object from alternating keys and values. */
    private static Map<String, Object> object(Object... keysAndValues) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            map.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return map;
    }
}
