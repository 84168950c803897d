using Microsoft.Extensions.Options;

namespace Retail;

/// <summary>
/// Adapts an options class's own <c>Validate()</c> (a list of messages that name the setting and the
/// bad value) to <see cref="IValidateOptions{TOptions}"/>, so every package validates on start the
/// same way. Messages of named options are prefixed with <c>[name]</c>.
/// </summary>
/// <typeparam name="TOptions">The options type.</typeparam>
/// <param name="validate">Returns the problems, empty when valid.</param>
public sealed class OptionsListValidator<TOptions>(Func<TOptions, IReadOnlyList<string>> validate) : IValidateOptions<TOptions>
    where TOptions : class
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = validate(options);
        if (errors.Count == 0) return ValidateOptionsResult.Success;
        string prefix = string.IsNullOrEmpty(name) ? "" : $"[{name}] ";
        return ValidateOptionsResult.Fail(errors.Select(e => prefix + e));
    }
}
