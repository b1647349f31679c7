using System.Reflection;
using ComputeBroker.Definitions;

namespace ComputeBroker.Cli;

/// <summary>Reads the user's files, or the examples shipped inside the tool.</summary>
public static class InputFiles
{
    public const string ExampleAgreement = "examples/agreements/microsoft-openai-2025-01.yaml";
    public const string ExampleProviders = "examples/providers.yaml";
    public const string ExampleRequests = "examples/requests.yaml";

    /// <summary>The file's text, or the embedded example of that name when <paramref name="path"/> is null.</summary>
    public static (string Text, string Name) Read(string? path, string example)
    {
        if (path is null)
        {
            using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(example)
                ?? throw new InvalidOperationException($"The embedded example {example} is missing from the build.");
            using var reader = new StreamReader(stream);
            return (reader.ReadToEnd(), example);
        }

        if (!File.Exists(path))
        {
            throw new UserInputException($"{path}: {WhyNotAFile(path)}");
        }

        return (File.ReadAllText(path), path);
    }

    /// <summary>Why <paramref name="path"/>, which is not a file, cannot be read: it is a directory, or nothing is there.</summary>
    public static string WhyNotAFile(string path) =>
        Directory.Exists(path)
            ? "is a directory; give the path of a file"
            : $"no such file; check the path (relative paths start from {Directory.GetCurrentDirectory()})";

    /// <summary>The parsed value, or a <see cref="UserInputException"/> listing every error.</summary>
    public static T Require<T>(Parsed<T> parsed)
    {
        if (!parsed.Ok)
        {
            throw new UserInputException(string.Join(Environment.NewLine, parsed.Errors));
        }

        return parsed.Value!;
    }
}
