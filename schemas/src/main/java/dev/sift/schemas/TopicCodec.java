package dev.sift.schemas;

/**
 * Turns one record type into the bytes of a Kafka record value and back. {@link RecordCodec} is the
 * Avro single-object encoding; {@link ResultJsonCodec} and {@link DeadLetterJsonCodec} are the JSON
 * form of the job's output topics. {@link OutputFormat} picks one of each for the results and dead
 * letters.
 */
public interface TopicCodec<T> {

    byte[] encode(T record);

    T decode(byte[] bytes) throws RecordDecodingException;
}
