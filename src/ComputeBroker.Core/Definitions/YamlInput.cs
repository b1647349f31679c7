using System.Globalization;
using System.Text.RegularExpressions;
using ComputeBroker.Domain;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ComputeBroker.Definitions;

/// <summary>Collects the errors of one file. Reading never stops at the first error.</summary>
internal sealed class Diagnostics(string file)
{
    private readonly List<DefinitionError> _errors = [];

    public string File { get; } = file;

    public IReadOnlyList<DefinitionError> Errors => _errors;

    public int Count => _errors.Count;

    public void Add(string path, string message, YamlNode? at = null) =>
        Add(path, message, at is null ? null : (int)at.Start.Line, at is null ? null : (int)at.Start.Column);

    public void Add(string path, string message, int? line, int? column) =>
        _errors.Add(new DefinitionError(File, path, message) { Line = line, Column = column });

    /// <summary>True when an error was already reported at <paramref name="path"/> or inside it.</summary>
    public bool HasErrorAt(string path) =>
        _errors.Any(e => e.Path == path
            || e.Path.StartsWith(path + ".", StringComparison.Ordinal)
            || e.Path.StartsWith(path + "[", StringComparison.Ordinal));
}

/// <summary>Loads YAML (or JSON, which YAML contains) into the representation model, so that paths and lines can be reported.</summary>
internal static partial class YamlInput
{
    public const string KindHint = "'kind: agreement', 'kind: providers' or 'kind: requests'";

    /// <summary>The single document's root node, or null after reporting why there is none.</summary>
    public static YamlNode? Load(string text, Diagnostics diagnostics)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            var line = (int)e.Start.Line;
            var column = (int)e.Start.Column;
            diagnostics.Add(
                $"line {line.ToString(CultureInfo.InvariantCulture)}, column {column.ToString(CultureInfo.InvariantCulture)}",
                Explain(e),
                line,
                column);
            return null;
        }

        var documents = stream.Documents.Where(d => d.RootNode is not YamlScalarNode { Value: null or "" }).ToArray();
        if (documents.Length == 0)
        {
            diagnostics.Add("(document)", $"is empty; start the file with {KindHint}");
            return null;
        }

        if (documents.Length > 1)
        {
            diagnostics.Add("(document)", $"holds {documents.Length.ToString(CultureInfo.InvariantCulture)} YAML documents (separated by ---); put one definition in each file", documents[1].RootNode);
            return null;
        }

        return documents[0].RootNode;
    }

    /// <summary>The root as a mapping, or null after reporting that the file is not one.</summary>
    public static YamlMap? Root(YamlNode root, Diagnostics diagnostics)
    {
        if (root is YamlMappingNode mapping)
        {
            return new YamlMap(diagnostics, mapping, string.Empty);
        }

        diagnostics.Add("(document)", $"must be a mapping that starts with {KindHint}, not {YamlMap.Describe(root)}", root);
        return null;
    }

    /// <summary>
    /// The kind named at the top of the file, or null after reporting why it cannot be told.
    /// </summary>
    public static DefinitionKind? Kind(YamlMap root)
    {
        var kind = root.Text("kind", $"{KindHint} at the top of the file");
        if (kind is null)
        {
            return null;
        }

        if (Kinds.TryGetValue(kind, out var known))
        {
            return known;
        }

        root.Diagnostics.Add(root.At("kind"), $"unknown kind '{kind}'{Spelling.Hint(kind, Kinds.Keys)}", root.ValueNode("kind"));
        return null;
    }

    public static readonly IReadOnlyDictionary<string, DefinitionKind> Kinds = new Dictionary<string, DefinitionKind>(StringComparer.Ordinal)
    {
        ["agreement"] = DefinitionKind.Agreement,
        ["providers"] = DefinitionKind.Providers,
        ["requests"] = DefinitionKind.Requests,
    };

    public static string Name(DefinitionKind kind) => Kinds.First(k => k.Value == kind).Key;

    /// <summary>YamlDotNet prefixes its messages with the marks; the path already says where, so keep the words only.</summary>
    private static string Explain(YamlException e)
    {
        var message = MarkPrefix().Replace(e.Message, string.Empty).Trim().TrimEnd('.');
        if (e.InnerException is { } inner && !string.IsNullOrWhiteSpace(inner.Message))
        {
            message += $" ({MarkPrefix().Replace(inner.Message, string.Empty).Trim().TrimEnd('.')})";
        }

        if (message.StartsWith("Duplicate key ", StringComparison.Ordinal))
        {
            return $"duplicate key '{message["Duplicate key ".Length..]}'; give each key once in a mapping";
        }

        message = message.Length == 0 ? "is not valid YAML" : char.ToLowerInvariant(message[0]) + message[1..];
        return $"{message}; check the indentation, the quoting and that each key is followed by ': '";
    }

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\):\s*", RegexOptions.CultureInvariant)]
    private static partial Regex MarkPrefix();
}

/// <summary>
/// A YAML mapping at a known path, with typed readers that report every problem with the path of
/// the key and the fix. A reader returns null when the value is absent or wrong; whether a wrong
/// value was reported is visible in <see cref="Diagnostics"/>. The <c>missing</c> argument of each
/// reader makes the key required: it is what the message tells the user to add.
/// </summary>
internal sealed class YamlMap
{
    private readonly Dictionary<string, (YamlNode Key, YamlNode Value)> _entries = new(StringComparer.Ordinal);

    public YamlMap(Diagnostics diagnostics, YamlMappingNode node, string path)
    {
        Diagnostics = diagnostics;
        Node = node;
        Path = path;
        foreach (var (key, value) in node.Children)
        {
            if (key is YamlScalarNode { Value: { Length: > 0 } name })
            {
                _entries[name] = (key, value);
            }
            else
            {
                diagnostics.Add(path.Length == 0 ? "(document)" : path, $"has a key that is not a plain name ({Describe(key)}); keys are names such as 'id'", key);
            }
        }
    }

    public Diagnostics Diagnostics { get; }

    public YamlMappingNode Node { get; }

    public string Path { get; }

    public static string Describe(YamlNode? node) => node switch
    {
        YamlSequenceNode => "a list",
        YamlMappingNode => "a mapping",
        YamlScalarNode scalar when IsNull(scalar) => "empty",
        YamlScalarNode scalar => $"'{scalar.Value}'",
        _ => "nothing",
    };

    public string At(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    public bool Has(string key) => _entries.ContainsKey(key);

    /// <summary>The value node, or null when the key is absent or its value is empty (<c>key:</c>, <c>~</c>, <c>null</c>).</summary>
    public YamlNode? ValueNode(string key) =>
        _entries.TryGetValue(key, out var entry) && !(entry.Value is YamlScalarNode s && IsNull(s)) ? entry.Value : null;

    /// <summary>Reports every key not in <paramref name="known"/>, suggesting the closest known key.</summary>
    public void AllowOnly(IReadOnlyCollection<string> known, string owner)
    {
        foreach (var (name, (key, _)) in _entries)
        {
            if (!known.Contains(name, StringComparer.Ordinal))
            {
                Diagnostics.Add(At(name), $"unknown key '{name}'{Spelling.Hint(name, known, $"{owner} takes")}", key);
            }
        }
    }

    public string? Text(string key, string? missing = null) => Scalar(key, missing);

    /// <summary>The value's text if it is a single value, without reporting anything: for checks that span entries, whose readers already reported.</summary>
    public string? Peek(string key) => ValueNode(key) is YamlScalarNode { Value: { } text } && text.Trim().Length > 0 ? text.Trim() : null;

    public TimeSpan? Duration(string key, string? missing = null, bool positive = true)
    {
        if (Scalar(key, missing) is not { } text)
        {
            return null;
        }

        if (!IsoDuration.TryParse(text, out var value, out var error))
        {
            return Fail<TimeSpan>(key, error);
        }

        return positive && value <= TimeSpan.Zero
            ? Fail<TimeSpan>(key, $"'{text}' is zero; give a positive duration ({IsoDuration.Example})")
            : value;
    }

    public DateTimeOffset? Instant(string key, string? missing = null) =>
        Scalar(key, missing) is { } text
            ? IsoInstant.TryParse(text, out var value, out var error) ? value : Fail<DateTimeOffset>(key, error)
            : null;

    /// <summary>An amount such as <c>12.29 USD</c>; with <paramref name="positive"/>, zero and negative amounts are errors.</summary>
    public Money? Money(string key, string? missing = null, bool positive = true)
    {
        if (Scalar(key, missing) is not { } text)
        {
            return null;
        }

        if (!Domain.Money.TryParse(text, out var value, out var error))
        {
            return Fail<Money>(key, error);
        }

        return positive && value.Amount <= 0
            ? Fail<Money>(key, $"'{text}' is not a positive amount; give an amount above zero, e.g. '12.29 USD'")
            : value;
    }

    public decimal? Rate(string key, string? missing = null) =>
        Scalar(key, missing) is { } text
            ? Definitions.Rate.TryParse(text, out var value, out var error) ? value : Fail<decimal>(key, error)
            : null;

    /// <summary>A whole number of at least <paramref name="minimum"/>; <paramref name="what"/> names it in the message.</summary>
    public int? Integer(string key, string? missing, int minimum, string what)
    {
        if (Scalar(key, missing) is not { } text)
        {
            return null;
        }

        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            return Fail<int>(key, $"'{text}' is not a whole number; give {what}");
        }

        if (value < minimum)
        {
            var below = value < 0 ? "negative" : $"below {minimum.ToString(CultureInfo.InvariantCulture)}";
            return Fail<int>(key, $"{text} is {below}; give {what}, at least {minimum.ToString(CultureInfo.InvariantCulture)}");
        }

        return value > int.MaxValue ? Fail<int>(key, $"{text} is too large; give {what}, at most {int.MaxValue.ToString(CultureInfo.InvariantCulture)}") : (int)value;
    }

    public bool? Flag(string key) =>
        Scalar(key, null) switch
        {
            null => null,
            { } text when text.Equals("true", StringComparison.OrdinalIgnoreCase) => true,
            { } text when text.Equals("false", StringComparison.OrdinalIgnoreCase) => false,
            { } text => Fail<bool>(key, $"'{text}' is not true or false"),
        };

    /// <summary>One of <paramref name="options"/>; a near miss is suggested.</summary>
    public string? Choice(string key, IReadOnlyCollection<string> options, string what, string? missing = null)
    {
        if (Scalar(key, missing) is not { } text)
        {
            return null;
        }

        if (options.Contains(text, StringComparer.Ordinal))
        {
            return text;
        }

        Diagnostics.Add(At(key), $"unknown {what} '{text}'{Spelling.Hint(text, options)}", ValueNode(key));
        return null;
    }

    /// <summary>A list of names (<c>[training, research]</c>); each must be a non-empty single value.</summary>
    public IReadOnlyList<string>? Names(string key, string? missing = null)
    {
        var items = Items(key, missing, "[a, b]");
        if (items is null)
        {
            return null;
        }

        var names = new List<string>(items.Count);
        var before = Diagnostics.Count;
        foreach (var (node, path) in items)
        {
            if (node is YamlScalarNode scalar && !IsNull(scalar) && scalar.Value!.Trim().Length > 0)
            {
                names.Add(scalar.Value.Trim());
            }
            else
            {
                Diagnostics.Add(path, $"must be a name, not {Describe(node)}", node);
            }
        }

        return Diagnostics.Count > before ? null : names;
    }

    /// <summary>The items of a list with their paths; a required list must not be empty.</summary>
    public IReadOnlyList<(YamlNode Node, string Path)>? Items(string key, string? missing = null, string example = "- item")
    {
        var node = ValueNode(key);
        if (node is null)
        {
            Missing(key, missing);
            return null;
        }

        if (node is not YamlSequenceNode sequence)
        {
            Diagnostics.Add(At(key), $"must be a list ({example}), not {Describe(node)}", node);
            return null;
        }

        if (missing is not null && sequence.Children.Count == 0)
        {
            Diagnostics.Add(At(key), $"is empty; add {missing}", node);
            return null;
        }

        return sequence.Children.Select((child, i) => (child, $"{At(key)}[{i.ToString(CultureInfo.InvariantCulture)}]")).ToArray();
    }

    public YamlMap? Map(string key, string shape, string? missing = null)
    {
        var node = ValueNode(key);
        if (node is null)
        {
            Missing(key, missing);
            return null;
        }

        return Of(Diagnostics, node, At(key), shape);
    }

    /// <summary>The node as a mapping at <paramref name="path"/>, or null after reporting what it is instead.</summary>
    public static YamlMap? Of(Diagnostics diagnostics, YamlNode node, string path, string shape)
    {
        if (node is YamlMappingNode mapping)
        {
            return new YamlMap(diagnostics, mapping, path);
        }

        diagnostics.Add(path, $"must be a mapping ({shape}), not {Describe(node)}", node);
        return null;
    }

    public void Error(string key, string message) => Diagnostics.Add(At(key), message, ValueNode(key) ?? KeyNode(key) ?? Node);

    private YamlNode? KeyNode(string key) => _entries.TryGetValue(key, out var entry) ? entry.Key : null;

    private string? Scalar(string key, string? missing)
    {
        var node = ValueNode(key);
        if (node is null)
        {
            Missing(key, missing);
            return null;
        }

        if (node is not YamlScalarNode scalar)
        {
            Diagnostics.Add(At(key), $"must be a single value, not {Describe(node)}", node);
            return null;
        }

        var text = scalar.Value!.Trim();
        if (text.Length == 0)
        {
            Missing(key, missing);
            return null;
        }

        return text;
    }

    private void Missing(string key, string? missing)
    {
        if (missing is null)
        {
            return;
        }

        if (Has(key))
        {
            Diagnostics.Add(At(key), $"is empty; give {missing}", KeyNode(key));
        }
        else
        {
            Diagnostics.Add(At(key), $"is missing; add {missing}", Node);
        }
    }

    private T? Fail<T>(string key, string message) where T : struct
    {
        Diagnostics.Add(At(key), message, ValueNode(key));
        return null;
    }

    /// <summary>YAML's null: an empty plain value, <c>~</c> or <c>null</c>. A quoted empty string is a value.</summary>
    private static bool IsNull(YamlScalarNode scalar) =>
        scalar.Style is ScalarStyle.Plain or ScalarStyle.Any && scalar.Value is null or "" or "~" or "null" or "Null" or "NULL";
}
