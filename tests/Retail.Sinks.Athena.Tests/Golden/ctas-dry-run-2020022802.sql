ALTER TABLE mydatabase.retail_trans_json ADD IF NOT EXISTS
  PARTITION (year=2020, month=2, day=28, hour=1) LOCATION 's3://<bucket>/json-data/year=2020/month=02/day=28/hour=01/'
  PARTITION (year=2020, month=2, day=28, hour=2) LOCATION 's3://<bucket>/json-data/year=2020/month=02/day=28/hour=02/'
  PARTITION (year=2020, month=2, day=28, hour=3) LOCATION 's3://<bucket>/json-data/year=2020/month=02/day=28/hour=03/';

SELECT "$path" AS path, count(*) AS row_count FROM mydatabase.retail_trans_json WHERE year = ?{2020} AND month = ?{2} AND day = ?{28} AND hour = ?{2} GROUP BY 1;

SELECT "$path" AS path, count(*) AS row_count FROM mydatabase.ctas_retail_trans_parquet WHERE year = ?{2020} AND month = ?{2} AND day = ?{28} AND hour = ?{2} GROUP BY 1;

DROP TABLE IF EXISTS mydatabase.tmp_ctas_retail_trans_parquet_2020022802;

CREATE TABLE mydatabase.tmp_ctas_retail_trans_parquet_2020022802
WITH (external_location = 's3://<bucket>/parquet-retail-trans/year=2020/month=02/day=28/hour=02/v-<fingerprint>-<run>/', format = 'PARQUET', parquet_compression = 'SNAPPY')
AS SELECT invoice, stockcode, description, quantity, invoicedate, price, customer_id, country
FROM mydatabase.retail_trans_json
WHERE year = 2020 AND month = 2 AND day = 28 AND hour = 2;

SELECT count(*) AS row_count FROM mydatabase.tmp_ctas_retail_trans_parquet_2020022802;

ALTER TABLE mydatabase.ctas_retail_trans_parquet ADD IF NOT EXISTS PARTITION (year=2020, month=2, day=28, hour=2) LOCATION 's3://<bucket>/parquet-retail-trans/year=2020/month=02/day=28/hour=02/v-<fingerprint>-<run>/';

ALTER TABLE mydatabase.ctas_retail_trans_parquet PARTITION (year=2020, month=2, day=28, hour=2) SET LOCATION 's3://<bucket>/parquet-retail-trans/year=2020/month=02/day=28/hour=02/v-<fingerprint>-<run>/';

DROP TABLE IF EXISTS mydatabase.tmp_ctas_retail_trans_parquet_2020022802;
