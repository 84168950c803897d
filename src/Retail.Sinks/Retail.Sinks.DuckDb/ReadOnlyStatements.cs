using System.Collections.Frozen;
using System.Text;
using System.Text.Json;
using DuckDB.NET.Data;
using DuckDB.NET.Native;

namespace Retail.Sinks.DuckDb;

/// <summary>
/// The read-only rule for user SQL (<see cref="DuckDbQueryEngine.QueryAsync"/>, <see cref="DuckDbUpsertIndex.QueryAsync"/>):
/// a statement runs only if DuckDB's own parser shows it is one SELECT (which includes <c>WITH</c>, <c>FROM</c>-first,
/// <c>VALUES</c>, <c>DESCRIBE</c>, <c>SHOW</c>, <c>SUMMARIZE</c>) that calls no state-changing function, or an
/// <c>EXPLAIN</c> / <c>EXPLAIN ANALYZE</c> of such a SELECT. Everything else is refused before DuckDB binds it.
/// </summary>
/// <remarks>
/// The decision is made on the parse alone (<c>duckdb_extract_statements</c> and <c>json_serialize_sql</c>, which
/// serializes SELECT statements only), never by preparing the statement: DuckDB binds a statement when it prepares
/// it, and binding already has effects for some (preparing <c>EXPORT DATABASE 'dir'</c> creates <c>dir</c>).
/// Table functions that change state are callable from a SELECT (<c>SELECT * FROM checkpoint()</c>,
/// <c>enable_logging(…)</c>, which even bypasses <c>lock_configuration</c>), and <c>query('…')</c> runs SQL hidden
/// in a string, so every function named in the parsed statement is checked against
/// <see cref="StateChangingFunctions"/>.
/// </remarks>
internal static class ReadOnlyStatements
{
    /// <summary>
    /// Functions a read-only query may not call (DuckDB 1.5): table functions that checkpoint, switch logging,
    /// profiling or the parser, or run SQL given as text or serialized; scalar functions that advance a sequence,
    /// reseed the connection's random generator or write to the log.
    /// </summary>
    internal static readonly FrozenSet<string> StateChangingFunctions = new[]
    {
        "checkpoint", "force_checkpoint",
        "enable_logging", "disable_logging", "truncate_duckdb_logs", "write_log",
        "enable_profiling", "disable_profiling",
        "enable_peg_parser", "disable_peg_parser",
        "query", "query_table", "json_execute_serialized_sql",
        "arrow_scan", "arrow_scan_dumb",
        "nextval", "setseed",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    private const string Allowed = "Only a SELECT (or WITH, FROM-first, VALUES, DESCRIBE, SHOW, SUMMARIZE) or an EXPLAIN of one may run.";

    /// <summary>
    /// The SQL to run for <paramref name="sql"/>: the text itself when it is one read-only SELECT, or for an
    /// <c>EXPLAIN</c> a canonical <c>EXPLAIN [ANALYZE] &lt;the checked SELECT&gt;</c>.
    /// </summary>
    /// <exception cref="DuckDbQueryException">The SQL does not parse, holds more than one statement, or is not read-only; the message says which and why.</exception>
    public static string Check(DuckDBConnection connection, string sql)
    {
        int statements = CountStatements(connection, sql, out string? parseError);
        if (statements == 0)
            throw new DuckDbQueryException("DuckDB could not run the query: " + parseError, sql);
        if (statements > 1)
            throw new DuckDbQueryException(
                $"A query runs one statement; this SQL text holds {statements} (a PIVOT without an IN list counts as two: it creates an ENUM type first). " +
                "Queries are read-only: run one SELECT at a time.", sql);

        var parsed = Serialize(connection, sql);
        if (parsed.IsSelect)
        {
            RefuseStateChangingFunctions(parsed, sql);
            return sql;
        }

        var lexer = new SqlLexer(sql);
        var first = lexer.FirstKeyword();
        if (first.Word == "EXPLAIN") return CheckExplain(connection, sql, lexer, first.End);
        throw Refused(first.Word, parsed, sql, lexer);
    }

    private static string CheckExplain(DuckDBConnection connection, string sql, SqlLexer lexer, int position)
    {
        int at = lexer.SkipTrivia(position);
        bool analyze = false;
        var word = lexer.WordAt(at);
        if (word.Word is "ANALYZE" or "ANALYSE")
        {
            analyze = true;
            at = lexer.SkipTrivia(word.End);
        }
        string? options = null;
        if (at < sql.Length && sql[at] == '(')
        {
            int close = lexer.MatchingParenthesis(at);
            string inside = close < 0 ? "" : sql[(at + 1)..close];
            if (close < 0 || !inside.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or ',' or ' ' or '\t' or '\r' or '\n'))
                throw new DuckDbQueryException($"Queries are read-only: the options of this EXPLAIN are not plain words, so it is refused. {Allowed}", sql);
            options = inside;
            at = close + 1;
        }

        string inner = sql[at..];
        var parsed = Serialize(connection, inner);
        if (!parsed.IsSelect || parsed.Statements != 1)
        {
            var innerLexer = new SqlLexer(inner);
            var innerWord = innerLexer.FirstKeyword().Word;
            throw new DuckDbQueryException(
                $"Queries are read-only: EXPLAIN{(analyze ? " ANALYZE" : "")} of {Describe(innerWord, innerLexer)} is refused. {Allowed}", sql);
        }
        RefuseStateChangingFunctions(parsed, sql);
        var canonical = new StringBuilder("EXPLAIN ");
        if (analyze) canonical.Append("ANALYZE ");
        if (options is not null) canonical.Append('(').Append(options).Append(") ");
        return canonical.Append(inner).ToString();
    }

    private static DuckDbQueryException Refused(string? word, Parsed parsed, string sql, SqlLexer lexer) =>
        parsed.NotASelect
            ? new DuckDbQueryException($"Queries are read-only: {Describe(word, lexer)} is refused before it runs. {Allowed}", sql)
            : new DuckDbQueryException(
                $"Queries are read-only, and DuckDB's parser could not confirm that {Describe(word, lexer)} is a plain read ({parsed.Error}), so it is refused. {Allowed}", sql);

    /// <summary>"a COPY statement", "a CREATE statement", "an INSERT statement (after WITH)" …</summary>
    private static string Describe(string? word, SqlLexer lexer)
    {
        if (word is null) return "this statement";
        if (word == "WITH" && lexer.MainKeywordAfterWith() is { } main)
            return $"{Article(main)} {main} statement (after WITH)";
        return $"{Article(word)} {word} statement";
    }

    private static string Article(string word) =>
        word.Length > 0 && "AEIOU".Contains(word[0], StringComparison.Ordinal) && !word.StartsWith("US", StringComparison.Ordinal) ? "an" : "a";

    private static void RefuseStateChangingFunctions(Parsed parsed, string sql)
    {
        foreach (string name in parsed.Functions)
            if (StateChangingFunctions.Contains(name))
                throw new DuckDbQueryException(
                    $"Queries are read-only: this SELECT calls {name}(), which changes state or runs SQL hidden from this check, so it is refused. {Allowed}", sql);
    }

    private static int CountStatements(DuckDBConnection connection, string sql, out string? error)
    {
        int count = NativeMethods.ExtractStatements.DuckDBExtractStatements(connection.NativeConnection, sql, out var extracted);
        try
        {
            error = count == 0 ? NativeMethods.ExtractStatements.DuckDBExtractStatementsError(extracted) : null;
            return count;
        }
        finally
        {
            extracted.Dispose();
        }
    }

    /// <summary>What DuckDB's <c>json_serialize_sql</c> makes of <paramref name="sql"/> (it parses, never binds).</summary>
    private static Parsed Serialize(DuckDBConnection connection, string sql)
    {
        string json;
        try
        {
            json = DuckDbCommands.Scalar(connection, "SELECT json_serialize_sql($1::VARCHAR)", sql) as string ?? "";
        }
        catch (DuckDBException e)
        {
            return new Parsed(false, false, 0, [], e.Message);
        }
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json), new JsonReaderOptions { MaxDepth = 100_000 });
        bool error = true, notASelect = false;
        string? message = null;
        int statements = 0, depth = 0, statementsDepth = -1;
        var functions = new List<string>();
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        if (statementsDepth >= 0 && depth == statementsDepth + 1 && reader.TokenType == JsonTokenType.StartObject) statements++;
                        depth++;
                        break;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        depth--;
                        if (depth == statementsDepth) statementsDepth = -1;
                        break;
                    case JsonTokenType.PropertyName when depth == 1 && reader.ValueTextEquals("error"):
                        reader.Read();
                        error = reader.TokenType == JsonTokenType.True;
                        break;
                    case JsonTokenType.PropertyName when depth == 1 && reader.ValueTextEquals("error_message"):
                        reader.Read();
                        message = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                        notASelect = message?.Contains("Only SELECT statements", StringComparison.Ordinal) == true;
                        break;
                    case JsonTokenType.PropertyName when depth == 1 && reader.ValueTextEquals("statements"):
                        statementsDepth = depth;
                        break;
                    case JsonTokenType.PropertyName when reader.ValueTextEquals("function_name"):
                        reader.Read();
                        if (reader.TokenType == JsonTokenType.String) functions.Add(reader.GetString()!);
                        break;
                }
            }
        }
        catch (JsonException e)
        {
            return new Parsed(false, false, 0, [], "its parse could not be read: " + e.Message);
        }
        return new Parsed(!error && statements > 0, notASelect, statements, functions, message ?? "");
    }

    private sealed record Parsed(bool IsSelect, bool NotASelect, int Statements, IReadOnlyList<string> Functions, string Error);
}

/// <summary>
/// Just enough of DuckDB's lexical rules to find a statement's leading keywords: whitespace, <c>--</c> and nested
/// <c>/* */</c> comments, <c>'…'</c> / <c>E'…'</c> / <c>$tag$…$tag$</c> strings, <c>"…"</c> identifiers, parentheses.
/// It only names statements in messages and finds where an EXPLAIN's statement starts; whatever it finds there is
/// checked by DuckDB's parser, so a mistake here can refuse a statement but never let one through.
/// </summary>
internal sealed class SqlLexer(string sql)
{
    /// <summary>The first keyword (upper case), skipping trivia and opening parentheses, and where it ends.</summary>
    public (string? Word, int End) FirstKeyword()
    {
        int i = SkipTrivia(0);
        while (i < sql.Length && sql[i] == '(') i = SkipTrivia(i + 1);
        return WordAt(i);
    }

    /// <summary>The statement keyword after a <c>WITH</c> clause: the first of SELECT, INSERT, UPDATE, DELETE, MERGE, … outside parentheses.</summary>
    public string? MainKeywordAfterWith()
    {
        var (word, i) = FirstKeyword();
        if (word != "WITH") return null;
        int depth = 0;
        while (i < sql.Length)
        {
            i = SkipTrivia(i);
            if (i >= sql.Length) break;
            char c = sql[i];
            if (c == '(') { depth++; i++; continue; }
            if (c == ')') { depth--; i++; continue; }
            if (IsWordStart(c))
            {
                var (w, end) = WordAt(i);
                if (depth == 0 && w is "SELECT" or "INSERT" or "UPDATE" or "DELETE" or "MERGE" or "FROM" or "VALUES" or "TABLE" or "PIVOT" or "UNPIVOT" or "COPY")
                    return w;
                i = end;
                continue;
            }
            i = SkipToken(i);
        }
        return null;
    }

    /// <summary>The word (identifier or keyword, upper case) at <paramref name="i"/>, or null.</summary>
    public (string? Word, int End) WordAt(int i)
    {
        if (i >= sql.Length || !IsWordStart(sql[i])) return (null, i);
        int start = i;
        while (i < sql.Length && (char.IsLetterOrDigit(sql[i]) || sql[i] is '_' or '$')) i++;
        return (sql[start..i].ToUpperInvariant(), i);
    }

    /// <summary>The index of the <c>)</c> that closes the <c>(</c> at <paramref name="open"/>, or -1.</summary>
    public int MatchingParenthesis(int open)
    {
        int depth = 0, i = open;
        while (i < sql.Length)
        {
            i = SkipTrivia(i);
            if (i >= sql.Length) break;
            if (sql[i] == '(') depth++;
            else if (sql[i] == ')' && --depth == 0) return i;
            i = SkipToken(i);
        }
        return -1;
    }

    /// <summary>The first index at or after <paramref name="i"/> that is not whitespace or a comment.</summary>
    public int SkipTrivia(int i)
    {
        while (i < sql.Length)
        {
            char c = sql[i];
            if (c is ' ' or '\t' or '\n' or '\r' or '\f' or '\v') { i++; continue; }
            if (c == '-' && At(i + 1, '-'))
            {
                while (i < sql.Length && sql[i] != '\n') i++;
                continue;
            }
            if (c == '/' && At(i + 1, '*'))
            {
                int depth = 0;
                while (i < sql.Length)
                {
                    if (sql[i] == '/' && At(i + 1, '*')) { depth++; i += 2; }
                    else if (sql[i] == '*' && At(i + 1, '/')) { i += 2; if (--depth == 0) break; }
                    else i++;
                }
                continue;
            }
            break;
        }
        return i;
    }

    /// <summary>The index after the token at <paramref name="i"/> (a string, quoted identifier, word, or one other character).</summary>
    private int SkipToken(int i)
    {
        char c = sql[i];
        if (c == '\'') return SkipQuoted(i, '\'', backslashEscapes: false);
        if ((c is 'e' or 'E') && At(i + 1, '\'')) return SkipQuoted(i + 1, '\'', backslashEscapes: true);
        if (c == '"') return SkipQuoted(i, '"', backslashEscapes: false);
        if (c == '$')
        {
            int tagEnd = i + 1;
            while (tagEnd < sql.Length && (char.IsLetterOrDigit(sql[tagEnd]) || sql[tagEnd] == '_')) tagEnd++;
            if (At(tagEnd, '$'))
            {
                string tag = sql[i..(tagEnd + 1)];
                int close = sql.IndexOf(tag, tagEnd + 1, StringComparison.Ordinal);
                return close < 0 ? sql.Length : close + tag.Length;
            }
        }
        if (IsWordStart(c)) return WordAt(i).End;
        return i + 1;
    }

    private int SkipQuoted(int i, char quote, bool backslashEscapes)
    {
        i++;
        while (i < sql.Length)
        {
            if (backslashEscapes && sql[i] == '\\') { i += 2; continue; }
            if (sql[i] == quote)
            {
                if (At(i + 1, quote)) { i += 2; continue; }
                return i + 1;
            }
            i++;
        }
        return i;
    }

    private bool At(int i, char c) => i < sql.Length && sql[i] == c;

    private static bool IsWordStart(char c) => char.IsLetter(c) || c == '_';
}
