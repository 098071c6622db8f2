package dev.sift.sql;

import java.util.LinkedHashSet;
import java.util.Set;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.table.api.config.ExecutionConfigOptions;
import org.apache.flink.table.api.config.MLPredictRuntimeConfigOptions;
import org.apache.flink.table.catalog.ResolvedCatalogModel;
import org.apache.flink.table.factories.FactoryUtil;
import org.apache.flink.table.factories.ModelProviderFactory;
import org.apache.flink.table.functions.AsyncPredictFunction;
import org.apache.flink.table.ml.AsyncPredictRuntimeProvider;
import org.apache.flink.table.ml.ModelProvider;

/**
 * {@code 'provider' = 'sift'}: Sift's models in Flink SQL and the Table API.
 *
 * <pre>{@code
 * CREATE MODEL spam
 *   INPUT (text STRING)
 *   OUTPUT (label STRING, score DOUBLE, probabilities MAP<STRING, DOUBLE>, model_version BIGINT)
 *   WITH ('provider' = 'sift', 'registry' = '/shared/registry', 'model' = 'spam');
 * SELECT id, label, score FROM ML_PREDICT(TABLE mails, MODEL spam, DESCRIPTOR(text));
 * }</pre>
 *
 * Options are in {@link SiftModelOptions}; an unknown or bad option, or a column Sift cannot fill,
 * fails the statement with a message naming it and what is valid.
 */
public final class SiftModelProviderFactory implements ModelProviderFactory {

    public static final String IDENTIFIER = "sift";

    @Override
    public String factoryIdentifier() {
        return IDENTIFIER;
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        return new LinkedHashSet<>(SiftModelOptions.REQUIRED);
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        return new LinkedHashSet<>(SiftModelOptions.OPTIONAL);
    }

    @Override
    public ModelProvider createModelProvider(Context context) {
        FactoryUtil.ModelProviderFactoryHelper helper =
                FactoryUtil.createModelProviderFactoryHelper(this, context);
        helper.validate(); // unknown keys, missing required ones, values of the wrong type
        SiftModelSettings settings = SiftModelSettings.from(helper.getOptions());
        ResolvedCatalogModel model = context.getCatalogModel();
        ModelSignature signature =
                ModelSignature.of(model.getResolvedInputSchema(), model.getResolvedOutputSchema());
        int inFlight =
                context.getConfiguration()
                        .get(
                                ExecutionConfigOptions
                                        .TABLE_EXEC_ASYNC_ML_PREDICT_MAX_CONCURRENT_OPERATIONS);
        return new Provider(settings, signature, inFlight);
    }

    /** Hands the planner the async function (the planner prefers async over sync). */
    static final class Provider implements AsyncPredictRuntimeProvider {
        private final SiftModelSettings settings;
        private final ModelSignature signature;
        private final int sessionInFlight;

        Provider(SiftModelSettings settings, ModelSignature signature, int sessionInFlight) {
            this.settings = settings;
            this.signature = signature;
            this.sessionInFlight = sessionInFlight;
        }

        /**
         * Flink lets at most 'max-concurrent-operations' rows into the function at once (the
         * query's {@code MAP[...]} argument, else the session's setting): a batch never grows
         * beyond that, so the function runs one as soon as that many rows wait.
         */
        @Override
        public AsyncPredictFunction createAsyncPredictFunction(Context context) {
            int inFlight =
                    context.runtimeConfig()
                            .getOptional(
                                    MLPredictRuntimeConfigOptions.ASYNC_MAX_CONCURRENT_OPERATIONS)
                            .orElse(sessionInFlight);
            return new SiftPredictFunction(settings, signature, inFlight);
        }

        @Override
        public ModelProvider copy() {
            return new Provider(settings, signature, sessionInFlight);
        }
    }
}
