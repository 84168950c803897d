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
LOCATION 's3://bucket/lake/json-data/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.year.type' = 'integer',
  'projection.year.range' = '2000,2099',
  'projection.month.type' = 'integer',
  'projection.month.range' = '1,12',
  'projection.month.digits' = '2',
  'projection.day.type' = 'integer',
  'projection.day.range' = '1,31',
  'projection.day.digits' = '2',
  'projection.hour.type' = 'integer',
  'projection.hour.range' = '0,23',
  'projection.hour.digits' = '2',
  'storage.location.template' = 's3://bucket/lake/json-data/year=${year}/month=${month}/day=${day}/hour=${hour}/'
);

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
  'parquet.compression' = 'SNAPPY',
  'projection.enabled' = 'true',
  'projection.year.type' = 'integer',
  'projection.year.range' = '2000,2099',
  'projection.month.type' = 'integer',
  'projection.month.range' = '1,12',
  'projection.month.digits' = '2',
  'projection.day.type' = 'integer',
  'projection.day.range' = '1,31',
  'projection.day.digits' = '2',
  'projection.hour.type' = 'integer',
  'projection.hour.range' = '0,23',
  'projection.hour.digits' = '2',
  'storage.location.template' = 's3://bucket/lake/parquet-retail-trans/year=${year}/month=${month}/day=${day}/hour=${hour}/'
);
