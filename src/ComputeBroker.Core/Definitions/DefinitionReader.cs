using ComputeBroker.Contracts;

namespace ComputeBroker.Definitions;

/// <summary>
/// Reads agreement, providers and requests definitions from YAML or JSON text. Pure: text and a
/// file name (used only in messages) in, domain objects or every error out; no file I/O, no clock.
/// Every error names the file, the path inside it and the fix. Thread-safe: no shared state.
/// </summary>
public static class DefinitionReader
{
    public static Parsed<Agreement> ReadAgreement(string text, string file) =>
        Read(text, file, DefinitionKind.Agreement, AgreementFormat.Read);

    public static Parsed<ProvidersFile> ReadProviders(string text, string file) =>
        Read(text, file, DefinitionKind.Providers, ProvidersFormat.Read);

    public static Parsed<IReadOnlyList<ScheduledRequest>> ReadRequests(string text, string file) =>
        Read(text, file, DefinitionKind.Requests, RequestsFormat.Read);

    /// <summary>The kind named by the top-level <c>kind:</c>, or null when the text is not YAML or names no known kind.</summary>
    public static DefinitionKind? DetectKind(string text)
    {
        var diagnostics = new Diagnostics(string.Empty);
        return YamlInput.Load(text, diagnostics) is { } node && YamlInput.Root(node, diagnostics) is { } root
            ? YamlInput.Kind(root)
            : null;
    }

    /// <summary>Every error in the file, whatever its kind (told by its <c>kind:</c>); empty when the file is valid.</summary>
    public static IReadOnlyList<DefinitionError> Validate(string text, string file)
    {
        var diagnostics = new Diagnostics(file);
        if (YamlInput.Load(text, diagnostics) is not { } node || YamlInput.Root(node, diagnostics) is not { } root)
        {
            return diagnostics.Errors;
        }

        switch (YamlInput.Kind(root))
        {
            case DefinitionKind.Agreement:
                AgreementFormat.Read(root);
                break;
            case DefinitionKind.Providers:
                ProvidersFormat.Read(root);
                break;
            case DefinitionKind.Requests:
                RequestsFormat.Read(root);
                break;
        }

        return diagnostics.Errors;
    }

    private static Parsed<T> Read<T>(string text, string file, DefinitionKind expected, Func<YamlMap, T?> read) where T : class
    {
        var diagnostics = new Diagnostics(file);
        if (YamlInput.Load(text, diagnostics) is not { } node || YamlInput.Root(node, diagnostics) is not { } root)
        {
            return new Parsed<T>(null, diagnostics.Errors);
        }

        var name = YamlInput.Name(expected);
        if (!root.Has("kind"))
        {
            // Read on: the caller said what the file is, so its other errors are worth reporting too.
            root.Error("kind", $"is missing; add 'kind: {name}' at the top of the file");
        }
        else if (root.Text("kind") is { } kind && kind != name)
        {
            root.Error("kind", YamlInput.Kinds.ContainsKey(kind)
                ? $"is '{kind}', but {Article(name)} {name} file was expected; pass this file where {kind} files go, or give {Article(name)} {name} file"
                : $"unknown kind '{kind}'{Spelling.Hint(kind, [name])}");
            return new Parsed<T>(null, diagnostics.Errors);
        }

        var value = read(root);
        return diagnostics.Count == 0 ? new Parsed<T>(value, []) : new Parsed<T>(null, diagnostics.Errors);
    }

    private static string Article(string word) => "aeiou".Contains(word[0], StringComparison.Ordinal) ? "an" : "a";
}
