using System.Globalization;
using System.Text;
using ComputeBroker.Simulation.Scenarios;

namespace ComputeBroker.Simulation.Output;

/// <summary>
/// Where a simulation writes its files: <c>report.html</c> at the top of the output directory; each
/// scenario's CSV files there too when there is one scenario, else in a folder per scenario named after it.
/// A single run writes <c>requests.csv</c>; a Monte Carlo writes one requests file per run.
/// </summary>
public sealed class OutputLayout
{
    private readonly string[] _folders;

    public OutputLayout(string root, IReadOnlyList<Scenario> scenarios, int runs, bool requestsCsv = true)
    {
        Root = root;
        Runs = runs;
        WritesRequests = requestsCsv;
        _folders = new string[scenarios.Count];
        var used = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < scenarios.Count; i++)
        {
            if (scenarios.Count == 1)
            {
                _folders[i] = string.Empty;
                continue;
            }

            var slug = Slug(scenarios[i].Name);
            var candidate = slug;
            for (var n = 2; !used.Add(candidate); n++)
            {
                candidate = string.Create(CultureInfo.InvariantCulture, $"{slug}-{n}");
            }

            _folders[i] = candidate;
        }
    }

    public string Root { get; }

    public int Runs { get; }

    public bool WritesRequests { get; }

    public string ReportPath => Path.Combine(Root, "report.html");

    /// <summary>The scenario's folder relative to the root ("" for a single scenario), with a trailing slash when not empty.</summary>
    public string Folder(int set) => _folders[set].Length == 0 ? string.Empty : _folders[set] + "/";

    public string Directory(int set) => _folders[set].Length == 0 ? Root : Path.Combine(Root, _folders[set]);

    /// <summary>The requests file of one run, relative to the scenario's folder; null when request rows are not written.</summary>
    public string? RequestsFile(int run, int seed) =>
        !WritesRequests ? null
        : Runs == 1 ? "requests.csv"
        : string.Create(CultureInfo.InvariantCulture, $"requests-run-{run + 1:000}-seed-{seed}.csv");

    public string? RequestsPath(int set, int run, int seed) =>
        RequestsFile(run, seed) is { } file ? Path.Combine(Directory(set), file) : null;

    /// <summary>Creates the root and every scenario folder.</summary>
    public void Create()
    {
        System.IO.Directory.CreateDirectory(Root);
        for (var i = 0; i < _folders.Length; i++)
        {
            System.IO.Directory.CreateDirectory(Directory(i));
        }
    }

    /// <summary>Lower-case letters, digits and dashes: a folder name that is the same on every system.</summary>
    public static string Slug(string name)
    {
        var builder = new StringBuilder();
        foreach (var c in name.ToLowerInvariant())
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                builder.Append(c);
            }
            else if (builder.Length > 0 && builder[^1] != '-')
            {
                builder.Append('-');
            }
        }

        var slug = builder.ToString().Trim('-');
        return slug.Length == 0 ? "scenario" : slug;
    }
}
