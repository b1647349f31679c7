namespace ComputeBroker.Cli.Tests;

/// <summary>
/// The simulator's benchmark (bench/ComputeBroker.SimulationBench) checks its options before it reads a scenario or
/// simulates anything: a wrong one exits 1 with one line naming the option and the fix.
/// </summary>
public sealed class SimulationBenchArgumentTests
{
    [Theory]
    [InlineData("--requests must be a number of requests of at least 1 (it was 'abc')", new[] { "--requests", "abc" })]
    [InlineData("--requests must be a number of requests of at least 1 (it was '0')", new[] { "--requests", "0" })]
    [InlineData("--runs must be a whole number from 1 to 256 (it was 'x')", new[] { "--runs", "x" })]
    [InlineData("--runs must be a whole number from 1 to 256 (it was '0')", new[] { "--runs", "0" })]
    [InlineData("--scenario: no file 'no-such-scenario.yaml'", new[] { "--scenario", "no-such-scenario.yaml" })]
    [InlineData("--runs needs a value", new[] { "--runs", "--no-csv" })]
    [InlineData("Unknown option 'bogus'", new[] { "--bogus" })]
    public Task BadOption_ExitsOneWithOneLineNamingIt_BeforeSimulatingAnything(string expected, string[] args) =>
        BrokerProcess.AssertRefusedAsync(BrokerProcess.SimulationBenchDll, expected, args);

    [Fact]
    public async Task Help_ListsTheOptionsAndExitsZero()
    {
        var result = await BrokerProcess.RunAsync(BrokerProcess.SimulationBenchDll, new Dictionary<string, string?>(), Path.GetTempPath(), "--help");

        Assert.Equal(0, result.ExitCode);
        foreach (var option in new[] { "--requests", "--runs", "--scenario", "--no-csv", "--keep" })
        {
            Assert.Contains(option, result.Stdout, StringComparison.Ordinal);
        }
    }
}
