package dev.sift.sql;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.types.logical.LogicalTypeFamily;

/**
 * The {@code INPUT} and {@code OUTPUT} of a Sift model as declared in {@code CREATE MODEL}: one
 * STRING column (a text) or two (a sentence pair, encoded {@code [CLS] a [SEP] b [SEP]}), and the
 * {@link OutputColumn}s to fill, in declared order.
 */
public final class ModelSignature implements Serializable {

    private static final long serialVersionUID = 1L;

    private final boolean pair;
    private final List<OutputColumn> outputs;

    private ModelSignature(boolean pair, List<OutputColumn> outputs) {
        this.pair = pair;
        this.outputs = List.copyOf(outputs);
    }

    /** Checks the declared schemas; the message names the column at fault and what would fit. */
    public static ModelSignature of(ResolvedSchema input, ResolvedSchema output) {
        List<Column> in = input.getColumns();
        if (in.isEmpty() || in.size() > 2) {
            throw new ValidationException(
                    "A Sift model takes one STRING input column (a text) or two (a sentence pair),"
                            + " but INPUT declares "
                            + in.size()
                            + ": "
                            + input);
        }
        for (Column column : in) {
            if (!column.getDataType().getLogicalType().is(LogicalTypeFamily.CHARACTER_STRING)) {
                throw new ValidationException(
                        "Sift model input column '"
                                + column.getName()
                                + "' must be STRING, not "
                                + column.getDataType());
            }
        }
        List<OutputColumn> outputs = new ArrayList<>();
        Set<OutputColumn> seen = new HashSet<>();
        for (Column column : output.getColumns()) {
            OutputColumn known = OutputColumn.named(column.getName());
            if (known == null) {
                throw new ValidationException(
                        "Sift model output column '"
                                + column.getName()
                                + "' is not one Sift fills; valid output columns are: "
                                + OutputColumn.describeAll());
            }
            if (!known.accepts(column.getDataType().getLogicalType())) {
                throw new ValidationException(
                        "Sift model output column '"
                                + column.getName()
                                + "' must be "
                                + known.type()
                                + ", not "
                                + column.getDataType());
            }
            if (!seen.add(known)) {
                throw new ValidationException(
                        "Sift model output column '" + column.getName() + "' is declared twice");
            }
            outputs.add(known);
        }
        if (outputs.isEmpty()) {
            throw new ValidationException(
                    "A Sift model needs at least one output column; valid output columns are: "
                            + OutputColumn.describeAll());
        }
        return new ModelSignature(in.size() == 2, outputs);
    }

    public boolean pair() {
        return pair;
    }

    public List<OutputColumn> outputs() {
        return outputs;
    }
}
