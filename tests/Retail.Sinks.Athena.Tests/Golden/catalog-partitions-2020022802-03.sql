CREATE DATABASE IF NOT EXISTS mydatabase;

CREATE EXTERNAL TABLE IF NOT EXISTS mydatabase.retail_trans_json (
  invoice string,
  stockcode string,
  description string,
  quantity int,
  invoicedate timestamp,
  price decimal(18,4),
  customer_id string,
  country string
)
PARTITIONED BY (year int, month int, day int, hour int)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
WITH SERDEPROPERTIES ('case.insensitive' = 'true', 'ignore.malformed.json' = 'false')
STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://bucket/lake/json-data/';

CREATE EXTERNAL TABLE IF NOT EXISTS mydatabase.ctas_retail_trans_parquet (
  invoice string,
  stockcode string,
  description string,
  quantity int,
  invoicedate timestamp,
  price decimal(18,4),
  customer_id string,
  country string
)
PARTITIONED BY (year int, month int, day int, hour int)
STORED AS PARQUET
LOCATION 's3://bucket/lake/parquet-retail-trans/'
TBLPROPERTIES (
  'parquet.compression' = 'SNAPPY'
);

ALTER TABLE mydatabase.retail_trans_json ADD IF NOT EXISTS
  PARTITION (year=2020, month=2, day=28, hour=2) LOCATION 's3://bucket/lake/json-data/year=2020/month=02/day=28/hour=02/'
  PARTITION (year=2020, month=2, day=28, hour=3) LOCATION 's3://bucket/lake/json-data/year=2020/month=02/day=28/hour=03/';

ALTER TABLE mydatabase.ctas_retail_trans_parquet ADD IF NOT EXISTS
  PARTITION (year=2020, month=2, day=28, hour=2) LOCATION 's3://bucket/lake/parquet-retail-trans/year=2020/month=02/day=28/hour=02/'
  PARTITION (year=2020, month=2, day=28, hour=3) LOCATION 's3://bucket/lake/parquet-retail-trans/year=2020/month=02/day=28/hour=03/';
