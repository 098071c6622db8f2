package dev.sift.job.decode;

import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.ErrorCode;
import dev.sift.schemas.PairRequest;
import dev.sift.schemas.RecordCodec;
import dev.sift.schemas.TextRequest;
import dev.sift.serving.request.RequestLimits;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;

/**
 * A corpus of request-topic values a producer, a bug or an attacker might send, each with the
 * dead-letter code the job must give it. JSON and Avro single-object alike; every one of them must
 * be refused without failing the job.
 */
public final class BadInputs {

    /** One bad value and the code it must get. */
    public record Case(String name, byte[] value, ErrorCode code) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static final RecordCodec<TextRequest> TEXTS = RecordCodec.of(TextRequest.class);
    private static final RecordCodec<PairRequest> PAIRS = RecordCodec.of(PairRequest.class);

    private BadInputs() {}

    /**
     * Built for limits of 1,000 bytes of text, 64 id characters, 1,000 bytes of attributes and 4
     * models.
     */
    public static final RequestLimits LIMITS = new RequestLimits(1_000, 64, 1_000, 4);

    public static List<Case> all() {
        List<Case> cases = new ArrayList<>();
        // --- JSON
        json(cases, "empty value", "", ErrorCode.UNDECODABLE);
        json(cases, "plain text", "win free cash", ErrorCode.UNDECODABLE);
        json(
                cases,
                "trailing garbage",
                "{\"id\":\"a\",\"text\":\"x\"} junk",
                ErrorCode.UNDECODABLE);
        json(
                cases,
                "two objects",
                "{\"id\":\"a\",\"text\":\"x\"}{\"id\":\"b\",\"text\":\"y\"}",
                ErrorCode.UNDECODABLE);
        json(cases, "truncated object", "{\"id\":\"a\",\"text\":\"x", ErrorCode.UNDECODABLE);
        json(cases, "array", "[{\"id\":\"a\",\"text\":\"x\"}]", ErrorCode.UNDECODABLE);
        json(cases, "no id", "{\"text\":\"x\"}", ErrorCode.MISSING_ID);
        json(cases, "empty id", "{\"id\":\"\",\"text\":\"x\"}", ErrorCode.MISSING_ID);
        json(cases, "blank id", "{\"id\":\"  \",\"text\":\"x\"}", ErrorCode.MISSING_ID);
        json(cases, "numeric id", "{\"id\":7,\"text\":\"x\"}", ErrorCode.UNDECODABLE);
        json(cases, "no text", "{\"id\":\"a\"}", ErrorCode.EMPTY_TEXT);
        json(cases, "blank text", "{\"id\":\"a\",\"text\":\" \\n\\t \"}", ErrorCode.EMPTY_TEXT);
        json(cases, "text not a string", "{\"id\":\"a\",\"text\":[\"x\"]}", ErrorCode.UNDECODABLE);
        json(
                cases,
                "pair without b",
                "{\"id\":\"a\",\"text_a\":\"x\"}",
                ErrorCode.MISSING_PAIR_HALF);
        json(
                cases,
                "pair without a",
                "{\"id\":\"a\",\"textB\":\"x\"}",
                ErrorCode.MISSING_PAIR_HALF);
        json(
                cases,
                "text and pair",
                "{\"id\":\"a\",\"text\":\"x\",\"text_a\":\"y\",\"text_b\":\"z\"}",
                ErrorCode.UNDECODABLE);
        json(
                cases,
                "models not an array",
                "{\"id\":\"a\",\"text\":\"x\",\"models\":\"spam\"}",
                ErrorCode.UNDECODABLE);
        json(
                cases,
                "nested attribute",
                "{\"id\":\"a\",\"text\":\"x\",\"attributes\":{\"k\":{\"n\":1}}}",
                ErrorCode.UNDECODABLE);
        json(
                cases,
                "unparseable event time",
                "{\"id\":\"a\",\"text\":\"x\",\"event_time\":\"yesterday\"}",
                ErrorCode.UNDECODABLE);
        json(
                cases,
                "id of 20,000 characters",
                "{\"id\":\"" + "i".repeat(20_000) + "\",\"text\":\"x\"}",
                ErrorCode.ID_TOO_LONG);
        json(
                cases,
                "text over the byte limit",
                "{\"id\":\"a\",\"text\":\"" + "é".repeat(600) + "\"}",
                ErrorCode.TEXT_TOO_LONG);
        json(
                cases,
                "attributes over the byte limit",
                "{\"id\":\"a\",\"text\":\"x\",\"attributes\":{\"a\":\""
                        + "v".repeat(600)
                        + "\",\"b\":\""
                        + "w".repeat(600)
                        + "\"}}",
                ErrorCode.ATTRIBUTES_TOO_LARGE);
        json(
                cases,
                "five models named",
                "{\"id\":\"a\",\"text\":\"x\",\"models\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}",
                ErrorCode.MODEL_LIST_TOO_LARGE);
        json(
                cases,
                "a model name of 256 characters",
                "{\"id\":\"a\",\"text\":\"x\",\"models\":[\"" + "m".repeat(256) + "\"]}",
                ErrorCode.MODEL_LIST_TOO_LARGE);
        json(
                cases,
                "pair halves together over the limit",
                "{\"id\":\"a\",\"text_a\":\""
                        + "x".repeat(600)
                        + "\",\"text_b\":\""
                        + "y".repeat(600)
                        + "\"}",
                ErrorCode.TEXT_TOO_LONG);
        json(
                cases,
                "deep nesting",
                "{\"id\":\"a\",\"text\":\"x\",\"attributes\":"
                        + "[".repeat(5_000)
                        + "]".repeat(5_000)
                        + "}",
                ErrorCode.UNDECODABLE);
        cases.add(
                new Case(
                        "bad UTF-8 in JSON",
                        concat(
                                bytes("{\"id\":\"a\",\"text\":\"caf"),
                                new byte[] {(byte) 0xC3, (byte) 0x28},
                                bytes("\"}")),
                        ErrorCode.INVALID_UTF8));
        cases.add(
                new Case(
                        "byte order mark then garbage",
                        concat(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, bytes("oops")),
                        ErrorCode.UNDECODABLE));

        // --- Avro single-object
        byte[] good = TEXTS.encode(text("a", "free cash now"));
        cases.add(
                new Case(
                        "truncated Avro",
                        Arrays.copyOf(good, good.length - 5),
                        ErrorCode.UNDECODABLE));
        cases.add(new Case("Avro header only", Arrays.copyOf(good, 10), ErrorCode.UNDECODABLE));
        byte[] wrongFingerprint = good.clone();
        wrongFingerprint[5] ^= 0x55;
        cases.add(new Case("unknown fingerprint", wrongFingerprint, ErrorCode.UNKNOWN_SCHEMA));
        cases.add(
                new Case(
                        "writer schema with an extra field",
                        withExtraField(text("a", "x")),
                        ErrorCode.UNKNOWN_SCHEMA));
        cases.add(
                new Case(
                        "another Sift record",
                        RecordCodec.of(ClassificationResult.class)
                                .encode(
                                        ClassificationResult.newBuilder()
                                                .setId("a")
                                                .setModel("spam")
                                                .setModelVersion(1)
                                                .setEncoderHash("h")
                                                .setLabel("spam")
                                                .setLabelIndex(1)
                                                .setProbability(1)
                                                .setProbabilities(List.of())
                                                .setLatencyMillis(0)
                                                .setAttributes(Map.of())
                                                .setEventTime(Instant.EPOCH)
                                                .build()),
                        ErrorCode.UNKNOWN_SCHEMA));
        cases.add(
                new Case(
                        "string length of a gigabyte",
                        concat(Arrays.copyOf(good, 10), varint(1_000_000_000L), bytes("a")),
                        ErrorCode.UNDECODABLE));
        cases.add(
                new Case(
                        "negative string length",
                        concat(Arrays.copyOf(good, 10), varint(-5), bytes("abcdef")),
                        ErrorCode.UNDECODABLE));
        byte[] badUtf8 = TEXTS.encode(text("u", "caf!"));
        badUtf8[lastIndexOf(badUtf8, (byte) '!')] = (byte) 0xFF;
        cases.add(new Case("bad UTF-8 in Avro", badUtf8, ErrorCode.INVALID_UTF8));
        cases.add(
                new Case("Avro blank text", TEXTS.encode(text("a", "   ")), ErrorCode.EMPTY_TEXT));
        cases.add(new Case("Avro blank id", TEXTS.encode(text(" ", "x")), ErrorCode.MISSING_ID));
        cases.add(
                new Case(
                        "Avro id of 20,000 characters",
                        TEXTS.encode(text("i".repeat(20_000), "x")),
                        ErrorCode.ID_TOO_LONG));
        cases.add(
                new Case(
                        "Avro text over the byte limit",
                        TEXTS.encode(text("a", "x".repeat(1_001))),
                        ErrorCode.TEXT_TOO_LONG));
        cases.add(
                new Case(
                        "Avro pair with a blank half",
                        PAIRS.encode(
                                PairRequest.newBuilder()
                                        .setId("p")
                                        .setTextA("a")
                                        .setTextB("")
                                        .build()),
                        ErrorCode.MISSING_PAIR_HALF));
        return cases;
    }

    private static void json(List<Case> cases, String name, String value, ErrorCode code) {
        cases.add(new Case(name, bytes(value), code));
    }

    private static TextRequest text(String id, String text) {
        return TextRequest.newBuilder().setId(id).setText(text).build();
    }

    /** The record as a producer with a newer, unreleased TextRequest schema would write it. */
    private static byte[] withExtraField(TextRequest request) {
        Schema current = TextRequest.getClassSchema();
        List<Schema.Field> fields = new ArrayList<>();
        for (Schema.Field field : current.getFields()) {
            fields.add(new Schema.Field(field, field.schema()));
        }
        fields.add(new Schema.Field("priority", Schema.create(Schema.Type.INT), "not released", 0));
        Schema extended =
                Schema.createRecord(
                        current.getName(), current.getDoc(), current.getNamespace(), false, fields);
        GenericRecord record = new GenericData.Record(extended);
        for (Schema.Field field : current.getFields()) {
            record.put(field.name(), request.get(field.name()));
        }
        record.put("priority", 5);
        try {
            java.nio.ByteBuffer buffer =
                    new BinaryMessageEncoder<GenericRecord>(GenericData.get(), extended)
                            .encode(record);
            byte[] bytes = new byte[buffer.remaining()];
            buffer.get(bytes);
            return bytes;
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Avro's zig-zag variable-length encoding of a long. */
    private static byte[] varint(long value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        long n = (value << 1) ^ (value >> 63);
        while ((n & ~0x7FL) != 0) {
            out.write((int) ((n & 0x7F) | 0x80));
            n >>>= 7;
        }
        out.write((int) n);
        return out.toByteArray();
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    private static int lastIndexOf(byte[] bytes, byte b) {
        for (int i = bytes.length - 1; i >= 0; i--) {
            if (bytes[i] == b) {
                return i;
            }
        }
        throw new IllegalArgumentException("not found");
    }
}
