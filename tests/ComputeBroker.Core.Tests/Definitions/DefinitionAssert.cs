using ComputeBroker.Definitions;

namespace ComputeBroker.Tests.Definitions;

/// <summary>Assertions on definition errors: exactly one error at a path, with a key phrase of its message.</summary>
internal static class DefinitionAssert
{
    public static DefinitionError ErrorAt(IReadOnlyList<DefinitionError> errors, string path, string phrase)
    {
        var atPath = errors.Where(e => e.Path == path).ToArray();
        Assert.True(atPath.Length == 1, $"expected one error at '{path}', got {atPath.Length}:\n{string.Join("\n", errors)}");
        Assert.Contains(phrase, atPath[0].Message, StringComparison.Ordinal);
        return atPath[0];
    }

    public static DefinitionError ErrorAt<T>(Parsed<T> parsed, string path, string phrase)
    {
        Assert.False(parsed.Ok, "expected errors, the file read cleanly");
        Assert.Null(parsed.Value);
        return ErrorAt(parsed.Errors, path, phrase);
    }

    public static T Clean<T>(Parsed<T> parsed)
    {
        Assert.True(parsed.Ok, string.Join("\n", parsed.Errors));
        return parsed.Value!;
    }
}
