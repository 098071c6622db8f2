package dev.sift.schemas;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.message.BadHeaderException;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.MissingSchemaException;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/**
 * Avro single-object encoding for one record type: a two-byte marker, the writer schema's 64-bit
 * Rabin fingerprint, then the binary body. Decoding accepts bytes written with the current schema
 * or any released one, resolved into the current class.
 *
 * <pre>{@code
 * RecordCodec<TextRequest> codec = RecordCodec.of(TextRequest.class);
 * byte[] bytes = codec.encode(request);
 * TextRequest back = codec.decode(bytes);
 * }</pre>
 *
 * <p>Instances are thread-safe.
 */
public final class RecordCodec<T extends SpecificRecord> implements TopicCodec<T> {

    /** Length of the single-object header: marker (2 bytes) plus fingerprint (8 bytes). */
    public static final int HEADER_LENGTH = 10;

    private static final byte MARKER_0 = (byte) 0xC3;
    private static final byte MARKER_1 = (byte) 0x01;

    private final Class<T> type;
    private final Schema schema;
    private final BinaryMessageEncoder<T> encoder;
    private final BinaryMessageDecoder<T> decoder;

    /** Every schema this codec reads, by fingerprint. */
    private final Map<Long, Schema> writers = new HashMap<>();

    private RecordCodec(Class<T> type, List<Schema> extraWriterSchemas) {
        this.type = type;
        this.schema = SpecificData.get().getSchema(type);
        SpecificData model = SpecificData.getForSchema(schema);
        this.encoder = new BinaryMessageEncoder<>(model, schema);
        this.decoder = new BinaryMessageDecoder<>(model, schema);
        writers.put(SchemaNormalization.parsingFingerprint64(schema), schema);
        List<Schema> released = new ArrayList<>(ReleasedSchemas.of(schema.getName()));
        released.addAll(extraWriterSchemas);
        for (Schema writer : released) {
            decoder.addSchema(writer);
            writers.put(SchemaNormalization.parsingFingerprint64(writer), writer);
        }
    }

    public static <T extends SpecificRecord> RecordCodec<T> of(Class<T> type) {
        return new RecordCodec<>(type, List.of());
    }

    /** A codec that also reads the given writer schemas; for tests of schema resolution. */
    static <T extends SpecificRecord> RecordCodec<T> withExtraWriterSchemas(
            Class<T> type, Schema... writers) {
        return new RecordCodec<>(type, List.of(writers));
    }

    public Class<T> type() {
        return type;
    }

    public Schema schema() {
        return schema;
    }

    @Override
    public byte[] encode(T record) {
        try {
            ByteBuffer buffer = encoder.encode(record);
            byte[] bytes = new byte[buffer.remaining()];
            buffer.get(bytes);
            return bytes;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot encode " + schema.getName(), e);
        }
    }

    /** Whether {@code bytes} carry a single-object header naming a schema this codec reads. */
    public boolean accepts(byte[] bytes) {
        return hasHeader(bytes) && writers.containsKey(fingerprint(bytes));
    }

    @Override
    public T decode(byte[] bytes) throws RecordDecodingException {
        if (!hasHeader(bytes)) {
            throw new RecordDecodingException(
                    ErrorCode.UNDECODABLE,
                    "Not Avro single-object encoded: expected the marker C3 01 and an 8-byte schema"
                            + " fingerprint");
        }
        Schema writer = writers.get(fingerprint(bytes));
        if (writer != null) {
            // Before Avro allocates what the body declares: see AvroBounds.
            AvroBounds.check(writer, bytes, HEADER_LENGTH);
        }
        try {
            return decoder.decode(bytes);
        } catch (MissingSchemaException e) {
            throw new RecordDecodingException(
                    ErrorCode.UNKNOWN_SCHEMA,
                    String.format(
                            "Unknown writer schema fingerprint %016x for %s",
                            fingerprint(bytes), schema.getName()),
                    e);
        } catch (BadHeaderException e) {
            throw new RecordDecodingException(ErrorCode.UNDECODABLE, e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            // Truncated or corrupt bodies surface as EOFException, AvroRuntimeException or
            // index errors from the binary decoder; all mean the same thing to a producer.
            throw new RecordDecodingException(
                    ErrorCode.UNDECODABLE,
                    "Corrupt " + schema.getName() + " body: " + describe(e),
                    e);
        }
    }

    static boolean hasHeader(byte[] bytes) {
        return bytes != null
                && bytes.length >= HEADER_LENGTH
                && bytes[0] == MARKER_0
                && bytes[1] == MARKER_1;
    }

    /** The writer schema fingerprint of a single-object encoded message. */
    static long fingerprint(byte[] bytes) {
        return ByteBuffer.wrap(bytes, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    private static String describe(Exception e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
