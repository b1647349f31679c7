namespace ComputeBroker.Simulation.Scenarios;

/// <summary>
/// Where the files a scenario names are: relative to the scenario file, with <c>/</c> separators, so the
/// same rules hold on disk and for the examples embedded in the CLI (<c>examples/scenarios/../providers.yaml</c>
/// is <c>examples/providers.yaml</c>).
/// </summary>
public static class ScenarioPaths
{
    /// <summary>The path of <paramref name="relative"/> as seen from the file <paramref name="fromFile"/>, normalised.</summary>
    public static string Resolve(string fromFile, string relative)
    {
        var target = relative.Replace('\\', '/');
        if (target.StartsWith('/'))
        {
            return Normalize(target);
        }

        var from = fromFile.Replace('\\', '/');
        var slash = from.LastIndexOf('/');
        var directory = slash < 0 ? string.Empty : from[..(slash + 1)];
        return Normalize(directory + target);
    }

    /// <summary>Removes <c>.</c> segments and folds <c>dir/..</c>; leading <c>..</c> of a relative path stay.</summary>
    public static string Normalize(string path)
    {
        var rooted = path.StartsWith('/');
        var parts = new List<string>();
        foreach (var part in path.Split('/'))
        {
            if (part.Length == 0 || part == ".")
            {
                continue;
            }

            if (part == ".." && parts.Count > 0 && parts[^1] != "..")
            {
                parts.RemoveAt(parts.Count - 1);
            }
            else if (part != ".." || !rooted)
            {
                parts.Add(part);
            }
        }

        var joined = string.Join('/', parts);
        return rooted ? "/" + joined : joined.Length == 0 ? "." : joined;
    }
}
