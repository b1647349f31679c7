namespace ComputeBroker.Tests.Definitions;

/// <summary>The shipped examples and schemas, copied beside the test assembly by the project file.</summary>
internal static class ExampleFiles
{
    public static string Root => AppContext.BaseDirectory;

    public static string Read(string relative) => File.ReadAllText(Path.Combine(Root, relative));

    public static IEnumerable<string> All() =>
        Directory.EnumerateFiles(Path.Combine(Root, "examples"), "*.yaml", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(Root, p).Replace('\\', '/'))
            .Order(StringComparer.Ordinal);

    public static TheoryData<string> AllAsTheory()
    {
        var data = new TheoryData<string>();
        foreach (var file in All())
        {
            data.Add(file);
        }

        return data;
    }
}
