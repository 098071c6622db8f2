package dev.sift.schemas;

/**
 * How the job writes its results and dead letters: {@link #JSON}, one JSON object per record that
 * any consumer reads, or {@link #AVRO}, Avro single-object encoding that needs Sift's schemas.
 * Readers that take either call {@link #of(byte[])}:
 *
 * <pre>{@code
 * ClassificationResult result = OutputFormat.of(value).results().decode(value);
 * }</pre>
 */
public enum OutputFormat {
    JSON(new ResultJsonCodec(), new DeadLetterJsonCodec()),
    AVRO(RecordCodec.of(ClassificationResult.class), RecordCodec.of(DeadLetter.class));

    private final TopicCodec<ClassificationResult> results;
    private final TopicCodec<DeadLetter> deadLetters;

    OutputFormat(TopicCodec<ClassificationResult> results, TopicCodec<DeadLetter> deadLetters) {
        this.results = results;
        this.deadLetters = deadLetters;
    }

    public TopicCodec<ClassificationResult> results() {
        return results;
    }

    public TopicCodec<DeadLetter> deadLetters() {
        return deadLetters;
    }

    /**
     * The format a value was written in: Avro where it starts with the single-object marker (C3 01,
     * which no UTF-8 JSON text starts with), JSON otherwise.
     */
    public static OutputFormat of(byte[] value) {
        return RecordCodec.hasHeader(value) ? AVRO : JSON;
    }

    /** The option value: {@code json} or {@code avro}. */
    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
