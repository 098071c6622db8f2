package dev.sift.sql;

import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.LabelProbability;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.data.GenericMapData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.logical.LogicalType;

/**
 * A column a Sift model can put in its {@code OUTPUT (...)}: matched by name, in any order and any
 * subset. Each is a field of the job's {@link ClassificationResult}, so SQL and the job report the
 * same thing under the same meaning.
 */
public enum OutputColumn {
    /** The most probable label. */
    LABEL("label", DataTypes.STRING()) {
        @Override
        Object value(ClassificationResult result) {
            return StringData.fromString(result.getLabel());
        }
    },
    /** Its index in the model's label list. */
    LABEL_INDEX("label_index", DataTypes.INT()) {
        @Override
        Object value(ClassificationResult result) {
            return result.getLabelIndex();
        }
    },
    /** The probability of {@link #LABEL}. */
    SCORE("score", DataTypes.DOUBLE()) {
        @Override
        Object value(ClassificationResult result) {
            return (double) result.getProbability();
        }
    },
    /** Every label's probability. */
    PROBABILITIES("probabilities", DataTypes.MAP(DataTypes.STRING(), DataTypes.DOUBLE())) {
        @Override
        Object value(ClassificationResult result) {
            Map<StringData, Double> map = new LinkedHashMap<>();
            for (LabelProbability p : result.getProbabilities()) {
                map.put(StringData.fromString(p.getLabel()), (double) p.getProbability());
            }
            return new GenericMapData(map);
        }
    },
    /** The registry version that produced the row. */
    MODEL_VERSION("model_version", DataTypes.BIGINT()) {
        @Override
        Object value(ClassificationResult result) {
            return result.getModelVersion();
        }
    },
    /** The content hash of the encoder that ran. */
    ENCODER_HASH("encoder_hash", DataTypes.STRING()) {
        @Override
        Object value(ClassificationResult result) {
            return StringData.fromString(result.getEncoderHash());
        }
    };

    private final String columnName;
    private final DataType type;

    OutputColumn(String columnName, DataType type) {
        this.columnName = columnName;
        this.type = type;
    }

    public String columnName() {
        return columnName;
    }

    public DataType type() {
        return type;
    }

    /** This column's value for {@code result}, in Flink's internal data format. */
    abstract Object value(ClassificationResult result);

    /** Whether a declared column type fits, nullability aside. */
    boolean accepts(LogicalType declared) {
        return declared.copy(true).equals(type.getLogicalType().copy(true));
    }

    static OutputColumn named(String name) {
        for (OutputColumn column : values()) {
            if (column.columnName.equalsIgnoreCase(name)) {
                return column;
            }
        }
        return null;
    }

    /** {@code label STRING, score DOUBLE, ...}, for messages. */
    static String describeAll() {
        return Arrays.stream(values())
                .map(c -> c.columnName + " " + c.type)
                .collect(Collectors.joining(", "));
    }
}
