using System.Globalization;
using System.Text.RegularExpressions;

namespace Retail.Sinks.Athena.Tests.Fakes;

/// <summary>
/// A small, strict simulation of Athena's catalog and S3 for the CTAS compactor: tables, partitions and their locations;
/// objects under s3:// locations holding rows (opaque strings here: the compactor only counts rows and paths). Runs the
/// statements the compactor sends and fails everything else. Athena's behaviours it reproduces: HIVE_PATH_ALREADY_EXISTS
/// for a CTAS into a non-empty location, "$path", DROP TABLE being metadata only (files stay). It records the partitions
/// each CTAS writes (<see cref="CtasPartitionCounts"/>); it does not write real Parquet (rows are opaque strings).
/// </summary>
public sealed partial class FakeAthenaCatalog
{
    private readonly Dictionary<string, Table> _tables = new(StringComparer.OrdinalIgnoreCase);
    private int _objectSerial;

    /// <summary>Objects by s3 key: their rows.</summary>
    public SortedDictionary<string, List<string>> Objects { get; } = new(StringComparer.Ordinal);

    /// <summary>Every statement run, in order.</summary>
    public List<FakeStatement> Statements { get; } = [];

    /// <summary>Partitions written by each CTAS, in order.</summary>
    public List<int> CtasPartitionCounts { get; } = [];

    /// <summary>When it answers a reason for a statement, that statement fails with it (fault injection).</summary>
    public Func<FakeStatement, string?>? FailWhen { get; set; }

    /// <summary>When it answers an outcome for a statement, the statement answers that instead of running (fault injection).</summary>
    public Func<FakeStatement, FakeQueryOutcome?>? AnswerWhen { get; set; }

    /// <summary>Declares a partitioned table (as the catalog DDL would).</summary>
    public void CreatePartitionedTable(string name)
    {
        Databases.Add(name.Split('.')[0]);
        _tables[name] = new Table(null);
    }

    /// <summary>The databases created (by CREATE DATABASE or <see cref="CreatePartitionedTable"/>).</summary>
    public HashSet<string> Databases { get; } = new(StringComparer.Ordinal);

    /// <summary>The tables and their LOCATION (null for those made by <see cref="CreatePartitionedTable"/>).</summary>
    public IReadOnlyDictionary<string, string?> TableLocations => _tables.ToDictionary(t => t.Key, t => t.Value.Location);

    /// <summary>Puts an object with <paramref name="rows"/> under <paramref name="prefix"/>; returns its key.</summary>
    public string PutObject(string prefix, IEnumerable<string> rows)
    {
        var key = $"{prefix}object-{++_objectSerial:D4}.json";
        Objects[key] = rows.ToList();
        return key;
    }

    /// <summary>Rows a plain SELECT of the partitioned table's partition would read now.</summary>
    public List<string> RowsOf(string table, int year, int month, int day, int hour)
        => _tables[table].Partitions.TryGetValue((year, month, day, hour), out var loc) ? ReadLocation(loc).SelectMany(o => o.Rows).ToList() : [];

    /// <summary>The executor for the loopback fake.</summary>
    public ValueTask<FakeQueryOutcome> ExecuteAsync(FakeStatement statement, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Statements.Add(statement);
        if (FailWhen?.Invoke(statement) is { } reason) throw new FakeQueryFailure(reason);
        if (AnswerWhen?.Invoke(statement) is { } answer) return ValueTask.FromResult(answer);
        if (statement.Database is { } context && !Databases.Contains(context))
            throw new FakeQueryFailure($"SCHEMA_NOT_FOUND: Schema '{context}' does not exist");
        var sql = statement.QueryString.Trim();
        Match m;
        if ((m = CreateDatabase().Match(sql)).Success)
        {
            Databases.Add(m.Groups["db"].Value);
            return ValueTask.FromResult(FakeQueryOutcome.Ddl);
        }
        if ((m = CreateExternalTable().Match(sql)).Success)
        {
            var name = m.Groups["t"].Value;
            if (!Databases.Contains(name.Split('.')[0])) throw new FakeQueryFailure($"FAILED: SemanticException [Error 10072]: Database does not exist: {name.Split('.')[0]}");
            _tables.TryAdd(name, new Table(m.Groups["loc"].Value));
            return ValueTask.FromResult(FakeQueryOutcome.Ddl);
        }
        if ((m = AddPartitions().Match(sql)).Success)
        {
            var t = Get(m.Groups["t"].Value);
            foreach (Match p in PartitionLocation().Matches(m.Groups["rest"].Value))
                t.Partitions.TryAdd(Spec(p), p.Groups["loc"].Value);
            return ValueTask.FromResult(FakeQueryOutcome.Ddl);
        }
        if ((m = SetLocation().Match(sql)).Success)
        {
            var t = Get(m.Groups["t"].Value);
            var spec = Spec(m);
            if (!t.Partitions.ContainsKey(spec)) throw new FakeQueryFailure($"Partition not found: {m.Groups["t"].Value} {spec}");
            t.Partitions[spec] = m.Groups["loc"].Value;
            return ValueTask.FromResult(FakeQueryOutcome.Ddl);
        }
        if ((m = DropTable().Match(sql)).Success)
        {
            if (!_tables.Remove(m.Groups["t"].Value) && !m.Groups["ifexists"].Success)
                throw new FakeQueryFailure($"FAILED: SemanticException [Error 10001]: Table not found {m.Groups["t"].Value}");
            return ValueTask.FromResult(FakeQueryOutcome.Ddl);
        }
        if ((m = Ctas().Match(sql)).Success)
        {
            var target = m.Groups["t"].Value;
            var loc = m.Groups["loc"].Value;
            if (_tables.ContainsKey(target)) throw new FakeQueryFailure($"Table already exists: {target}");
            if (Objects.Keys.Any(k => k.StartsWith(loc, StringComparison.Ordinal)))
                throw new FakeQueryFailure($"HIVE_PATH_ALREADY_EXISTS: Target directory for table '{target}' already exists: {loc}");
            if (sql.Contains("partitioned_by", StringComparison.OrdinalIgnoreCase))
                throw new FakeQueryFailure("FakeAthenaCatalog runs unpartitioned CTAS only (the compactor writes one hour per CTAS)");
            var source = Get(m.Groups["src"].Value);
            var rows = source.Partitions.TryGetValue(Spec(m), out var srcLoc) ? ReadLocation(srcLoc).SelectMany(o => o.Rows).ToList() : [];
            CtasPartitionCounts.Add(1);
            if (rows.Count > 0) Objects[$"{loc}{++_objectSerial:D8}_000000.snappy.parquet"] = rows;
            _tables[target] = new Table(loc);
            return ValueTask.FromResult(FakeQueryOutcome.Ddl);
        }
        if ((m = PathCounts().Match(sql)).Success)
        {
            var t = Get(m.Groups["t"].Value);
            var p = statement.ExecutionParameters.Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            if (p.Length != 4) throw new FakeQueryFailure($"INVALID_PARAMETER_USAGE: expected 4 parameters, got {p.Length}");
            var objects = t.Partitions.TryGetValue((p[0], p[1], p[2], p[3]), out var loc) ? ReadLocation(loc) : [];
            return ValueTask.FromResult(new FakeQueryOutcome(
                [new FakeColumn("path", "varchar"), new FakeColumn("row_count", "bigint")],
                objects.Where(o => o.Rows.Count > 0).Select(o => new string?[] { o.Key, o.Rows.Count.ToString(CultureInfo.InvariantCulture) }).ToList()));
        }
        if ((m = CountAll().Match(sql)).Success)
        {
            var t = Get(m.Groups["t"].Value);
            if (t.Location is null) throw new FakeQueryFailure("the fake counts unpartitioned tables only");
            var n = ReadLocation(t.Location).Sum(o => o.Rows.Count);
            return ValueTask.FromResult(new FakeQueryOutcome([new FakeColumn("row_count", "bigint")], [[n.ToString(CultureInfo.InvariantCulture)]]));
        }
        throw new FakeQueryFailure($"FakeAthenaCatalog does not run: {sql}");
    }

    private Table Get(string name)
        => _tables.TryGetValue(name, out var t) ? t : throw new FakeQueryFailure($"TABLE_NOT_FOUND: Table '{name}' does not exist");

    private List<(string Key, List<string> Rows)> ReadLocation(string location)
        => Objects.Where(o => o.Key.StartsWith(location, StringComparison.Ordinal)).Select(o => (o.Key, o.Value)).ToList();

    private static (int, int, int, int) Spec(Match m)
        => (int.Parse(m.Groups["y"].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups["mo"].Value, CultureInfo.InvariantCulture),
            int.Parse(m.Groups["d"].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups["h"].Value, CultureInfo.InvariantCulture));

    private sealed class Table(string? location)
    {
        public string? Location { get; } = location;
        public Dictionary<(int, int, int, int), string> Partitions { get; } = [];
    }

    private const string SpecPattern = @"\(year=(?<y>\d+), month=(?<mo>\d+), day=(?<d>\d+), hour=(?<h>\d+)\)";

    [GeneratedRegex(@"^CREATE DATABASE IF NOT EXISTS (?<db>\w+)$")]
    private static partial Regex CreateDatabase();

    [GeneratedRegex(@"^CREATE EXTERNAL TABLE IF NOT EXISTS (?<t>\w+\.\w+) \(\n(  \w+ [\w(),]+,?\n)+\)\nPARTITIONED BY \(year int, month int, day int, hour int\)\n.*?LOCATION '(?<loc>s3://[^']*/)'(\nTBLPROPERTIES \(.*\))?$", RegexOptions.Singleline)]
    private static partial Regex CreateExternalTable();

    [GeneratedRegex(@"^ALTER TABLE (?<t>\w+\.\w+) ADD IF NOT EXISTS(?<rest>(\s+PARTITION \(.*?\) LOCATION '[^']*')+)$", RegexOptions.Singleline)]
    private static partial Regex AddPartitions();

    [GeneratedRegex(@"PARTITION " + SpecPattern + @" LOCATION '(?<loc>s3://[^']*/)'")]
    private static partial Regex PartitionLocation();

    [GeneratedRegex(@"^ALTER TABLE (?<t>\w+\.\w+) PARTITION " + SpecPattern + @" SET LOCATION '(?<loc>s3://[^']*/)'$")]
    private static partial Regex SetLocation();

    [GeneratedRegex(@"^DROP TABLE (?<ifexists>IF EXISTS )?(?<t>\w+\.\w+)$")]
    private static partial Regex DropTable();

    [GeneratedRegex(@"^CREATE TABLE (?<t>\w+\.\w+)\s+WITH \(external_location = '(?<loc>s3://[^']*/)', format = 'PARQUET', parquet_compression = 'SNAPPY'\)\s+AS SELECT [\w, ]+\s+FROM (?<src>\w+\.\w+)\s+WHERE year = (?<y>\d+) AND month = (?<mo>\d+) AND day = (?<d>\d+) AND hour = (?<h>\d+)$")]
    private static partial Regex Ctas();

    [GeneratedRegex(@"^SELECT ""\$path"" AS path, count\(\*\) AS row_count FROM (?<t>\w+\.\w+) WHERE year = \? AND month = \? AND day = \? AND hour = \? GROUP BY 1$")]
    private static partial Regex PathCounts();

    [GeneratedRegex(@"^SELECT count\(\*\) AS row_count FROM (?<t>\w+\.\w+)$")]
    private static partial Regex CountAll();
}
