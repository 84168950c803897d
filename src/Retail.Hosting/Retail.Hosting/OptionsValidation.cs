using Microsoft.Extensions.Options;

namespace Retail;

/// <summary>Adapts an options class's own <c>Validate()</c> (a list of messages) to <see cref="IValidateOptions{TOptions}"/>.</summary>
internal sealed class ListValidator<TOptions>(Func<TOptions, IReadOnlyList<string>> validate) : IValidateOptions<TOptions>
    where TOptions : class
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        var errors = validate(options);
        if (errors.Count == 0) return ValidateOptionsResult.Success;
        string prefix = string.IsNullOrEmpty(name) ? "" : $"[{name}] ";
        return ValidateOptionsResult.Fail(errors.Select(e => prefix + e));
    }
}
