using System.Runtime.CompilerServices;

namespace ComputeBroker.Cli.Tests;

/// <summary>
/// <c>broker --help</c> is a public surface: its snapshot is committed so that every change to verbs,
/// options or wording shows in review. To accept a deliberate change, run the tests with
/// UPDATE_SNAPSHOTS=1 and commit the rewritten files in Snapshots/.
/// </summary>
public sealed class HelpSnapshotTests
{
    [Theory]
    [InlineData("broker-help.txt", new[] { "--help" })]
    [InlineData("broker-requests-help.txt", new[] { "requests", "--help" })]
    [InlineData("broker-ledger-help.txt", new[] { "ledger", "--help" })]
    [InlineData("broker-audit-verify-help.txt", new[] { "audit", "verify", "--help" })]
    public async Task Help_MatchesTheCommittedSnapshot(string snapshot, string[] args)
    {
        var result = await BrokerProcess.RunAsync(new Dictionary<string, string?>(), Path.GetTempPath(), args);

        Assert.Equal(0, result.ExitCode);
        var actual = Normalize(result.Stdout);
        var path = Path.Combine(SnapshotDirectory(), snapshot);
        if (Environment.GetEnvironmentVariable("UPDATE_SNAPSHOTS") == "1")
        {
            await File.WriteAllTextAsync(path, actual);
        }

        Assert.True(File.Exists(path), $"no snapshot {path}; run the tests with UPDATE_SNAPSHOTS=1 to write it, then review and commit it");
        Assert.Equal(Normalize(await File.ReadAllTextAsync(path)), actual);
    }

    [Fact]
    public async Task RequestsListHelp_NamesExactlyTheStatesTheServerTakes_InItsOrder()
    {
        // The option's description is a constant (an attribute): it has to follow the server's list when a state is added.
        var result = await BrokerProcess.RunAsync(new Dictionary<string, string?>(), Path.GetTempPath(), "requests", "list", "--help");

        Assert.Equal(0, result.ExitCode);
        var text = string.Join(' ', result.Stdout.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"--state <STATE> Only requests in this state: {string.Join(", ", Server.Service.RequestView.States)} --customer", text, StringComparison.Ordinal);
    }

    /// <summary>Spectre pads table cells with spaces; trailing whitespace is not part of the surface.</summary>
    private static string Normalize(string text) =>
        string.Join('\n', text.ReplaceLineEndings("\n").Split('\n').Select(line => line.TrimEnd())).TrimEnd() + "\n";

    private static string SnapshotDirectory([CallerFilePath] string source = "") => Path.Combine(Path.GetDirectoryName(source)!, "Snapshots");
}
