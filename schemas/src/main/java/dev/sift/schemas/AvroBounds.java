package dev.sift.schemas;

import org.apache.avro.Schema;

/**
 * Checks, before Avro decodes a binary body, that every length and count it declares fits in the
 * bytes that are there. Avro allocates a string, a byte array or a collection at the size the body
 * declares before it reads a byte of it, so a ten-byte record claiming a gigabyte string fails the
 * whole TaskManager with an {@link OutOfMemoryError} instead of being refused. A string or bytes
 * value needs as many bytes as its length; an array or map cannot hold more elements than bytes
 * when each element takes at least one.
 *
 * <p>The walk reads varints only and allocates nothing; it is linear in the record's size.
 */
final class AvroBounds {

    private final String recordName;
    private final byte[] bytes;
    private int position;

    private AvroBounds(String recordName, byte[] bytes, int offset) {
        this.recordName = recordName;
        this.bytes = bytes;
        this.position = offset;
    }

    /**
     * Throws when the body of {@code bytes} from {@code offset}, written with {@code writer},
     * declares more than it holds.
     */
    static void check(Schema writer, byte[] bytes, int offset) throws RecordDecodingException {
        AvroBounds walk = new AvroBounds(writer.getName(), bytes, offset);
        walk.value(writer, 0);
    }

    private void value(Schema schema, int depth) throws RecordDecodingException {
        if (depth > 64) {
            throw refuse("nests deeper than 64 levels");
        }
        switch (schema.getType()) {
            case NULL -> {}
            case BOOLEAN -> skip(1);
            case INT, LONG, ENUM -> varint();
            case FLOAT -> skip(4);
            case DOUBLE -> skip(8);
            case FIXED -> skip(schema.getFixedSize());
            case STRING, BYTES -> {
                long length = varint();
                if (length < 0) {
                    throw refuse("declares a negative length " + length);
                }
                skip(length);
            }
            case RECORD -> {
                for (Schema.Field field : schema.getFields()) {
                    value(field.schema(), depth + 1);
                }
            }
            case UNION -> {
                long branch = varint();
                if (branch < 0 || branch >= schema.getTypes().size()) {
                    throw refuse(
                            "names union branch " + branch + " of " + schema.getTypes().size());
                }
                value(schema.getTypes().get((int) branch), depth + 1);
            }
            case ARRAY -> blocks(schema.getElementType(), null, depth);
            case MAP -> blocks(schema.getValueType(), Schema.create(Schema.Type.STRING), depth);
        }
    }

    /** Arrays and maps: blocks of items, a negative count followed by the block's byte size. */
    private void blocks(Schema item, Schema key, int depth) throws RecordDecodingException {
        for (long count = varint(); count != 0; count = varint()) {
            if (count < 0) {
                count = -count;
                varint(); // the block's size in bytes, which a reader may use to skip it
            }
            boolean itemsTakeBytes = minimumSize(item) > 0 || (key != null && minimumSize(key) > 0);
            if (itemsTakeBytes && count > remaining()) {
                throw refuse("declares " + count + " items in " + remaining() + " bytes");
            }
            for (long i = 0; i < count; i++) {
                if (key != null) {
                    value(key, depth + 1);
                }
                value(item, depth + 1);
            }
        }
    }

    /** The fewest bytes a value of {@code schema} can take. */
    private static int minimumSize(Schema schema) {
        return switch (schema.getType()) {
            case NULL -> 0;
            case FLOAT -> 4;
            case DOUBLE -> 8;
            case FIXED -> schema.getFixedSize();
            case RECORD -> schema.getFields().stream().mapToInt(f -> minimumSize(f.schema())).sum();
            default -> 1;
        };
    }

    private long varint() throws RecordDecodingException {
        long raw = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (position >= bytes.length) {
                throw refuse("ends inside a number");
            }
            byte b = bytes[position++];
            raw |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return (raw >>> 1) ^ -(raw & 1); // zig-zag
            }
        }
        throw refuse("holds a number longer than ten bytes");
    }

    private void skip(long length) throws RecordDecodingException {
        if (length > remaining()) {
            throw refuse("declares " + length + " bytes where " + remaining() + " remain");
        }
        position += (int) length;
    }

    private int remaining() {
        return bytes.length - position;
    }

    private RecordDecodingException refuse(String problem) {
        return new RecordDecodingException(
                ErrorCode.UNDECODABLE,
                "Corrupt " + recordName + " body: at byte " + position + " it " + problem);
    }
}
