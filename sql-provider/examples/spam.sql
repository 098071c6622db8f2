-- Classify the demo's request stream with Flink SQL: ML_PREDICT on Sift's 'spam' model.
-- ${BOOTSTRAP_SERVERS} and ${REGISTRY} are filled in from environment variables by
-- dev.sift.sql.local.RunSql; in Flink's SQL client, write the values instead.

CREATE TABLE mails (
  id STRING,
  `text` STRING,
  attributes MAP<STRING, STRING>
) WITH (
  'connector' = 'kafka',
  'topic' = 'sift.requests',
  'properties.bootstrap.servers' = '${BOOTSTRAP_SERVERS}',
  'properties.group.id' = 'sift-sql-example',
  'scan.startup.mode' = 'earliest-offset',
  'format' = 'json',
  -- The topic also takes Avro requests; this table reads the JSON ones.
  'json.ignore-parse-errors' = 'true'
);

CREATE MODEL spam
  INPUT (`text` STRING)
  OUTPUT (label STRING, score DOUBLE, probabilities MAP<STRING, DOUBLE>, model_version BIGINT)
  WITH (
    'provider' = 'sift',
    'registry' = '${REGISTRY}',
    'model' = 'spam',
    -- The default 'version': what the registry recorded as announced, followed as it changes.
    'version.refresh-interval' = '10 s',
    'batch.max-size' = '32',
    'batch.max-wait' = '50 ms'
  );

-- ML_PREDICT hands the model at most 'max-concurrent-operations' rows at once (Flink's
-- default is 10): allow two batches' worth, so one fills while the other runs.
SELECT id, attributes['truth'] AS truth, label, ROUND(score, 3) AS score, model_version
FROM ML_PREDICT(TABLE mails, MODEL spam, DESCRIPTOR(`text`),
                MAP['max-concurrent-operations', '64']);
