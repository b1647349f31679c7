namespace ComputeBroker.Cli.Tests;

/// <summary>
/// The load command (bench/ComputeBroker.Load) checks its options before it starts a database or a broker: a wrong one
/// exits 1 with one line naming the option and the fix, and nothing is measured.
/// </summary>
public sealed class LoadCommandArgumentTests
{
    [Theory]
    [InlineData("--requests must be a whole number of at least 1 (it was 'abc')", new[] { "--requests", "abc" })]
    [InlineData("--requests must be a whole number of at least 1 (it was '0')", new[] { "--requests", "0" })]
    [InlineData("--concurrency must be a whole number from 1 to 1024 (it was '5000')", new[] { "--concurrency", "5000" })]
    [InlineData("--pace must be a number of workflows per second above 0 (it was '-5')", new[] { "--pace", "-5" })]
    [InlineData("--db: 'mysql' is not a database this command measures", new[] { "--db", "sqlite,mysql" })]
    [InlineData("--db names no database", new[] { "--db", "," })]
    [InlineData("Unknown option 'bogus'", new[] { "--bogus" })]
    [InlineData("--requests needs a value", new[] { "--requests" })]
    [InlineData("--pace needs a value", new[] { "--pace", "--db", "sqlite" })]
    public Task BadOption_ExitsOneWithOneLineNamingIt_BeforeMeasuringAnything(string expected, string[] args) =>
        BrokerProcess.AssertRefusedAsync(BrokerProcess.LoadDll, expected, args);
}
