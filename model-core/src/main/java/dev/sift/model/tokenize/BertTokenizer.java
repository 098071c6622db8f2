package dev.sift.model.tokenize;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * BERT tokenization on HuggingFace's Rust tokenizers, through DJL. Produces {@code [CLS] text
 * [SEP]} for single texts and {@code [CLS] a [SEP] b [SEP]} for pairs, truncated to {@code
 * maxSeqLen} tokens including the specials. A single text is cut as its {@link Truncation} says
 * (its head, or its head and tail); a pair longest-first (the longer part loses a token from its
 * end until both fit). Nothing is padded here: batches pad to their own longest sequence later.
 *
 * <p>Text is always text: {@code [CLS]}, {@code [SEP]} or {@code [MASK]} written inside a message
 * are encoded as the characters they are ({@code [}, {@code sep}, {@code ]}), never as the special
 * tokens, so a message cannot forge segment structure. HuggingFace's tokenizers match every "added
 * token" of {@code tokenizer.json} literally in the input before anything else; this class loads
 * the file without them. The templates still insert the real specials by id.
 *
 * <p>Thread-safe; holds a native tokenizer, so {@link #close()} it.
 *
 * <pre>{@code
 * try (BertTokenizer tokenizer = BertTokenizer.load(bundle.resolve("tokenizer.json"), 128)) {
 *     TokenizedInput single = tokenizer.encode("Hello, world!");
 *     TokenizedInput pair = tokenizer.encodePair("A man plays.", "Someone makes music.");
 * }
 * }</pre>
 */
public final class BertTokenizer implements AutoCloseable {

    /** [CLS] and [SEP] for one text; a pair needs one [SEP] more. */
    private static final int MIN_LENGTH = 3;

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Truncates (longest-first) to {@code maxSeqLen}: pairs always, single texts under head. */
    private final HuggingFaceTokenizer tokenizer;

    /** Does not truncate; single texts under head-tail are cut from its output. Else null. */
    private final HuggingFaceTokenizer untruncated;

    private final int maxSeqLen;
    private final Truncation truncation;
    private final int unknownTokenId;

    private BertTokenizer(
            int unknownTokenId,
            HuggingFaceTokenizer tokenizer,
            HuggingFaceTokenizer untruncated,
            int maxSeqLen,
            Truncation truncation) {
        this.tokenizer = tokenizer;
        this.untruncated = untruncated;
        this.maxSeqLen = maxSeqLen;
        this.truncation = truncation;
        this.unknownTokenId = unknownTokenId;
    }

    /** A tokenizer that keeps the head of long texts. */
    public static BertTokenizer load(Path tokenizerJson, int maxSeqLen) throws IOException {
        return load(tokenizerJson, maxSeqLen, Truncation.HEAD);
    }

    public static BertTokenizer load(Path tokenizerJson, int maxSeqLen, Truncation truncation)
            throws IOException {
        if (maxSeqLen < MIN_LENGTH) {
            throw new IllegalArgumentException(
                    "maxSeqLen must leave room for [CLS] a [SEP] b [SEP]; got " + maxSeqLen);
        }
        truncation.checkFits(maxSeqLen);
        JsonNode json = JSON.readTree(tokenizerJson.toFile());
        if (!(json instanceof ObjectNode root)) {
            throw new IOException(tokenizerJson + " is not a tokenizer.json object");
        }
        int unknownId = root.path("model").path("vocab").path("[UNK]").asInt(-1);
        root.putArray("added_tokens");
        byte[] withoutAddedTokens = JSON.writeValueAsBytes(root);
        HuggingFaceTokenizer tokenizer =
                HuggingFaceTokenizer.newInstance(
                        new ByteArrayInputStream(withoutAddedTokens),
                        Map.of(
                                "addSpecialTokens", "true",
                                "truncation", "true", // longest_first
                                "maxLength", Integer.toString(maxSeqLen),
                                "padding", "false"));
        if (truncation.isHead()) {
            return new BertTokenizer(unknownId, tokenizer, null, maxSeqLen, truncation);
        }
        try {
            HuggingFaceTokenizer untruncated =
                    HuggingFaceTokenizer.newInstance(
                            new ByteArrayInputStream(withoutAddedTokens),
                            Map.of(
                                    "addSpecialTokens", "true",
                                    "truncation", "false",
                                    "padding", "false"));
            return new BertTokenizer(unknownId, tokenizer, untruncated, maxSeqLen, truncation);
        } catch (IOException | RuntimeException e) {
            tokenizer.close(); // native memory: not left to a finalizer
            throw e;
        }
    }

    /** The id of {@code [UNK]}, what a word piece outside the vocabulary becomes; -1 if none. */
    public int unknownTokenId() {
        return unknownTokenId;
    }

    public int maxSeqLen() {
        return maxSeqLen;
    }

    public Truncation truncation() {
        return truncation;
    }

    public TokenizedInput encode(String text) {
        if (untruncated == null) {
            return toInput(tokenizer.encode(text));
        }
        Encoding whole = untruncated.encode(text);
        int[] kept = truncation.keptPositions(whole.getIds().length, maxSeqLen);
        return new TokenizedInput(pick(whole.getIds(), kept), pick(whole.getTypeIds(), kept));
    }

    public TokenizedInput encodePair(String first, String second) {
        return toInput(tokenizer.encode(first, second));
    }

    public List<TokenizedInput> encodeAll(List<String> texts) {
        List<TokenizedInput> inputs = new ArrayList<>(texts.size());
        for (String text : texts) {
            inputs.add(encode(text));
        }
        return inputs;
    }

    /** The WordPiece tokens of {@code text} (with specials), for diagnostics and tests. */
    public List<String> tokens(String text) {
        if (untruncated == null) {
            return List.of(tokenizer.encode(text).getTokens());
        }
        String[] whole = untruncated.encode(text).getTokens();
        return Arrays.stream(truncation.keptPositions(whole.length, maxSeqLen))
                .mapToObj(i -> whole[i])
                .toList();
    }

    private static TokenizedInput toInput(Encoding encoding) {
        return new TokenizedInput(toInts(encoding.getIds()), toInts(encoding.getTypeIds()));
    }

    private static int[] pick(long[] values, int[] positions) {
        int[] ints = new int[positions.length];
        for (int i = 0; i < positions.length; i++) {
            ints[i] = Math.toIntExact(values[positions[i]]);
        }
        return ints;
    }

    private static int[] toInts(long[] values) {
        int[] ints = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            ints[i] = Math.toIntExact(values[i]);
        }
        return ints;
    }

    @Override
    public void close() {
        tokenizer.close();
        if (untruncated != null) {
            untruncated.close();
        }
    }
}
