using System.Diagnostics;
using System.Reflection;
using System.Text.Json;

namespace ComputeBroker.Cli.Tests;

/// <summary>What one run of the CLI did: its exit code and everything it printed.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public JsonElement Json()
    {
        try
        {
            using var doc = JsonDocument.Parse(Stdout);
            return doc.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new Xunit.Sdk.XunitException($"stdout is not JSON ({ex.Message}):\n{this}");
        }
    }

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>
/// Runs the built <c>broker</c> as a child process (<c>dotnet broker.dll ...</c>), the way users and scripts
/// run it: real argument parsing, real exit codes, output redirected (so no colours, 180 columns).
/// </summary>
public static class BrokerProcess
{
    private static readonly string[] Inherited = ["BROKER_SERVER", "BROKER_API_KEY", "BROKER_ADMIN_KEY", "BROKER_DEBUG"];

    /// <summary>The CLI's build output, found next to the source (the test project builds it first).</summary>
    public static string Dll { get; } = Locate("BrokerDll", "src/ComputeBroker.Cli");

    /// <summary>The load command's build output (bench/ComputeBroker.Load), found the same way.</summary>
    public static string LoadDll { get; } = Locate("LoadDll", "bench/ComputeBroker.Load");

    /// <summary>The simulator's benchmark (bench/ComputeBroker.SimulationBench), found the same way.</summary>
    public static string SimulationBenchDll { get; } = Locate("SimulationBenchDll", "bench/ComputeBroker.SimulationBench");

    public static Task<CliResult> RunAsync(IReadOnlyDictionary<string, string?> environment, string workingDirectory, params string[] args) =>
        RunAsync(Dll, environment, workingDirectory, args);

    /// <summary>Runs <paramref name="dll"/> (the CLI, or another of the repository's commands) as a child process.</summary>
    public static async Task<CliResult> RunAsync(string dll, IReadOnlyDictionary<string, string?> environment, string workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var name in Inherited)
        {
            start.Environment.Remove(name);
        }

        start.Environment["NO_COLOR"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Path.GetFileNameWithoutExtension(dll)} {string.Join(' ', args)} did not finish within 2 minutes");
        }

        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>
    /// Runs one of the repository's commands with a wrong argument and checks that it refused it before doing anything: exit
    /// code 1, nothing on stdout, one line on stderr starting "error: " that contains <paramref name="expected"/>.
    /// </summary>
    public static Task AssertRefusedAsync(string dll, string expected, params string[] args) =>
        AssertRefusedAsync(dll, Path.GetTempPath(), expected, args);

    /// <inheritdoc cref="AssertRefusedAsync(string, string, string[])"/>
    /// <param name="workingDirectory">Where the command runs (relative paths in <paramref name="args"/> start there).</param>
    public static async Task AssertRefusedAsync(string dll, string workingDirectory, string expected, params string[] args)
    {
        var result = await RunAsync(dll, new Dictionary<string, string?>(), workingDirectory, args);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(string.Empty, result.Stdout);
        var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("error: ", line[..7]);
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }

    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    private static string Locate(string key, string project)
    {
        var path = typeof(BrokerProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException($"{Path.GetFileName(path)} is not built at {path}; build {project} in the same configuration as the tests");
    }
}
