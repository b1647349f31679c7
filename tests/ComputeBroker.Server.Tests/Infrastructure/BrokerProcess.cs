using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Xunit.Sdk;

namespace ComputeBroker.Server.Tests.Infrastructure;

/// <summary>
/// The built <c>broker serve</c> as a child process (<c>dotnet broker.dll serve ...</c>), so that a test can kill it
/// with SIGKILL (<see cref="Process.Kill(bool)"/> on Linux) and start it again on the same database and port.
/// Its output is kept (the last lines) for failure messages.
/// </summary>
public sealed class BrokerProcess : IDisposable
{
    private const int KeptLines = 200;

    private readonly Process _process;
    private readonly Queue<string> _output = new();

    private BrokerProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>
    /// The broker's clock now, estimated from its last reading (<see cref="ReadClockAsync"/>): it runs at its speed from
    /// there. A broker with a scaled clock continues from the last event of its log, so its clock cannot be told from the
    /// wall clock alone.
    /// </summary>
    public DateTimeOffset BrokerNow() => _clock is { } c
        ? c.Now + ((DateTimeOffset.UtcNow - c.ReadAt) * c.Speed)
        : throw new InvalidOperationException("read the broker's clock first (ReadClockAsync)");

    private (DateTimeOffset Now, double Speed, DateTimeOffset ReadAt)? _clock;

    /// <summary>Reads the broker's clock and speed from <c>/v1/clock</c>.</summary>
    public async Task ReadClockAsync(HttpClient client)
    {
        var readAt = DateTimeOffset.UtcNow;
        var clock = await client.GetAsync(new Uri(BaseAddress, "/v1/clock")).ExpectAsync(HttpStatusCode.OK);
        _clock = (clock.GetProperty("now").GetDateTimeOffset(), clock.GetProperty("speed").GetDouble(), readAt);
    }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output);
            }
        }
    }

    /// <summary>The broker CLI built beside this test assembly (the test project references the CLI project).</summary>
    public static string BrokerDll => Path.Combine(AppContext.BaseDirectory, "broker.dll");

    /// <summary>A key of the broker's form for BROKER_ADMIN_KEY: cbk_ + 10 hex digits + _ + a random secret.</summary>
    public static string NewAdminKey() =>
        $"cbk_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(5))}_{Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_')}";

    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Starts <c>broker serve</c> with <paramref name="arguments"/> after <c>serve</c>, listening on <paramref name="port"/>.</summary>
    public static BrokerProcess Start(int port, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment)
    {
        var url = $"http://127.0.0.1:{port}";
        var start = new ProcessStartInfo
        {
            FileName = DotnetHost(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var argument in (string[])[BrokerDll, "serve", "--urls", url, .. arguments])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["NO_COLOR"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var broker = new BrokerProcess(process, new Uri(url));
        process.OutputDataReceived += (_, e) => broker.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => broker.Keep(e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException($"could not start {start.FileName} {BrokerDll}");
        }

        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return broker;
    }

    /// <summary>Waits until <c>/readyz</c> answers 200 (the log is read and deadlines are armed); false if the process exited first.</summary>
    public async Task<bool> WaitUntilReadyAsync(HttpClient client, TimeSpan limit)
    {
        var until = DateTime.UtcNow + limit;
        while (DateTime.UtcNow < until)
        {
            if (_process.HasExited)
            {
                return false;
            }

            try
            {
                using var response = await client.GetAsync(new Uri(BaseAddress, "/readyz"));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Busy starting.
            }

            await Task.Delay(50);
        }

        throw new XunitException($"broker serve was not ready within {limit}:\n{Output}");
    }

    /// <summary>SIGKILL: the process gets no chance to flush, close or say goodbye.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        if (!_process.WaitForExit(TimeSpan.FromSeconds(10)))
        {
            throw new XunitException("broker serve did not die within 10 s of SIGKILL");
        }
    }

    public void Dispose()
    {
        try
        {
            Kill();
        }
        finally
        {
            _process.Dispose();
        }
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Enqueue(line);
            while (_output.Count > KeptLines)
            {
                _output.Dequeue();
            }
        }
    }

    /// <summary>The dotnet host running these tests (tests run under 'dotnet exec testhost.dll'), else DOTNET_HOST_PATH, else dotnet on the PATH.</summary>
    private static string DotnetHost()
    {
        if (Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet")
        {
            return path;
        }

        return Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
    }

    internal static string Describe(IEnumerable<string> lines) => new StringBuilder().AppendJoin('\n', lines).ToString();
}
