namespace Retail.Sinks.Athena;

/// <summary>A setting of the Athena CTAS compactor is missing or invalid; the message names the variable and its value.</summary>
public sealed class AthenaCompactorSettingsException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AthenaCompactorSettingsException(string variable, string? value, string message)
        : base(message)
    {
        Variable = variable;
        Value = value;
    }

    /// <summary>The variable (e.g. <c>OUTPUT_PREFIX</c>).</summary>
    public string Variable { get; }

    /// <summary>Its bad value, or null when missing.</summary>
    public string? Value { get; }
}
