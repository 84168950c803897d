namespace Retail.Sinks.Athena;

/// <summary>
/// The Athena CTAS compactor's settings: the workshop's MergeSmallFiles environment contract (OLD_DATABASE, OLD_TABLE_NAME,
/// NEW_DATABASE, NEW_TABLE_NAME, WORK_GROUP, OLD_TABLE_LOCATION_PREFIX, OUTPUT_PREFIX, STAGING_OUTPUT_PREFIX, COLUMN_NAMES)
/// plus DRY_RUN.
/// </summary>
public sealed class AthenaCompactorOptions
{
    /// <summary>OLD_DATABASE: the JSON table's database.</summary>
    public string OldDatabase { get; set; } = "mydatabase";

    /// <summary>OLD_TABLE_NAME: the JSON table.</summary>
    public string OldTableName { get; set; } = "retail_trans_json";

    /// <summary>NEW_DATABASE: the Parquet table's database.</summary>
    public string NewDatabase { get; set; } = "mydatabase";

    /// <summary>NEW_TABLE_NAME: the Parquet table.</summary>
    public string NewTableName { get; set; } = "ctas_retail_trans_parquet";

    /// <summary>WORK_GROUP.</summary>
    public string WorkGroup { get; set; } = "primary";

    /// <summary>OLD_TABLE_LOCATION_PREFIX: where the JSON table's hours are (<c>s3://bucket/json-data</c>).</summary>
    public string? OldTableLocationPrefix { get; set; }

    /// <summary>OUTPUT_PREFIX: where the Parquet hours are written (<c>s3://bucket/parquet-retail-trans</c>).</summary>
    public string? OutputPrefix { get; set; }

    /// <summary>STAGING_OUTPUT_PREFIX: Athena's query result location.</summary>
    public string? StagingOutputPrefix { get; set; }

    /// <summary>COLUMN_NAMES: the columns the CTAS selects (default: the lake's eight columns).</summary>
    public IList<string> ColumnNames { get; } = Retail.Storage.RetailLakeDefinition.Columns.Select(c => c.Name).ToList();

    /// <summary>DRY_RUN: print the statements, run nothing.</summary>
    public bool DryRun { get; set; }

    /// <summary>Reads the environment contract; throws naming the variable and its bad value.</summary>
    public static AthenaCompactorOptions FromEnvironment(Func<string, string?> getVariable)
        => throw new NotImplementedException("skeleton: built by the CTAS compactor work");
}
