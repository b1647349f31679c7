using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Npgsql;

namespace ComputeBroker.Testing;

/// <summary>
/// A real PostgreSQL server for tests: started from the machine's binaries in a temporary directory,
/// listening on a free loopback port with trust authentication, and stopped and deleted on dispose.
/// Tests create a database each with <see cref="CreateDatabaseAsync"/>, so they never see each other's rows.
/// </summary>
/// <remarks>
/// <para>Environment:</para>
/// <list type="bullet">
/// <item><c>BROKER_TEST_POSTGRES</c>: a connection string to an existing server to use instead (its
/// user must be allowed to CREATE DATABASE); nothing is started.</item>
/// <item><c>BROKER_POSTGRES_BIN</c>: the directory holding initdb and pg_ctl; by default the newest
/// <c>/usr/lib/postgresql/*/bin</c>.</item>
/// <item>When the binaries are missing, <see cref="StartAsync"/> throws <see cref="PostgresUnavailableException"/>.
/// Its <see cref="PostgresUnavailableException.SkipReason"/> is set only when <c>BROKER_SKIP_POSTGRES=1</c>
/// and <c>CI</c> is not <c>true</c>: a missing server never passes silently, and never skips on CI.</item>
/// </list>
/// PostgreSQL refuses to run as root, so as root the server runs as the <c>postgres</c> OS user
/// (<c>runuser</c>) in a directory it owns. A server whose test process died is stopped and deleted by
/// the next <see cref="StartAsync"/>. The server runs with fsync off: tests check the broker's
/// logic, not the disk. Thread-safe after start.
/// </remarks>
public sealed class PostgresServer : IAsyncDisposable
{
    public const string ExternalServerVariable = "BROKER_TEST_POSTGRES";
    public const string BinariesVariable = "BROKER_POSTGRES_BIN";
    public const string SkipVariable = "BROKER_SKIP_POSTGRES";

    private const string DirectoryPrefix = "computebroker-pg-";
    private const string OwnerFile = "owner.pid";

    private readonly string? _root;
    private readonly string? _binaries;
    private bool _disposed;

    private PostgresServer(string adminConnectionString, string? root, string? binaries)
    {
        AdminConnectionString = adminConnectionString;
        _root = root;
        _binaries = binaries;
    }

    /// <summary>A connection string to the server's <c>postgres</c> database as a superuser (or the external server's user).</summary>
    public string AdminConnectionString { get; }

    /// <summary>True when the server came from <c>BROKER_TEST_POSTGRES</c> and is not ours to stop.</summary>
    public bool IsExternal => _root is null;

    /// <summary>Starts a server (or connects to <c>BROKER_TEST_POSTGRES</c>) and checks that it answers.</summary>
    /// <exception cref="PostgresUnavailableException">No binaries and no external server.</exception>
    public static Task<PostgresServer> StartAsync(CancellationToken cancellationToken) => StartAsync(durable: false, cancellationToken);

    /// <summary>
    /// As <see cref="StartAsync(CancellationToken)"/>; with <paramref name="durable"/> the server keeps PostgreSQL's
    /// default durability (fsync and synchronous commit on), as benchmarks of durable throughput need.
    /// </summary>
    public static async Task<PostgresServer> StartAsync(bool durable, CancellationToken cancellationToken)
    {
        if (Environment.GetEnvironmentVariable(ExternalServerVariable) is { Length: > 0 } external)
        {
            var server = new PostgresServer(external, root: null, binaries: null);
            await server.PingAsync(cancellationToken);
            return server;
        }

        var binaries = FindBinaries();
        var asPostgres = Environment.IsPrivilegedProcess;
        CleanUpAbandoned(binaries, asPostgres);

        // As root, /tmp rather than $TMPDIR: the postgres user must be able to reach the directory.
        var parent = asPostgres ? "/tmp" : Path.GetTempPath();
        var root = Path.Combine(parent, DirectoryPrefix + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        await File.WriteAllTextAsync(Path.Combine(root, OwnerFile), Environment.ProcessId.ToString(CultureInfo.InvariantCulture), cancellationToken);
        try
        {
            if (asPostgres)
            {
                await RunAsync("chown", ["-R", "postgres:postgres", root], asPostgres: false, cancellationToken);
            }

            var data = Path.Combine(root, "data");
            await RunAsync(Path.Combine(binaries, "initdb"),
                ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"],
                asPostgres, cancellationToken);

            // A free port can be taken by someone else between our probe and the server's bind: retry.
            for (var attempt = 1; ; attempt++)
            {
                var port = FreeLoopbackPort();
                var durability = durable ? string.Empty : " -c fsync=off -c synchronous_commit=off -c full_page_writes=off";
                var options = $"-p {port} -k {root} -c listen_addresses=127.0.0.1{durability} -c max_connections=200";
                try
                {
                    await RunAsync(Path.Combine(binaries, "pg_ctl"),
                        ["-D", data, "-l", Path.Combine(root, "postgres.log"), "-w", "-t", "60", "-o", options, "start"],
                        asPostgres, cancellationToken);
                }
                catch (InvalidOperationException) when (attempt < 3)
                {
                    continue;
                }
                catch (InvalidOperationException e)
                {
                    throw new InvalidOperationException($"{e.Message}\n--- postgres.log ---\n{ReadLogTail(root)}", e);
                }

                var connection = new NpgsqlConnectionStringBuilder
                {
                    Host = "127.0.0.1",
                    Port = port,
                    Username = "postgres",
                    Database = "postgres",
                    Pooling = false,
                }.ConnectionString;
                var server = new PostgresServer(connection, root, binaries);
                await server.PingAsync(cancellationToken);
                return server;
            }
        }
        catch
        {
            await StopAndDeleteAsync(root, binaries, asPostgres);
            throw;
        }
    }

    /// <summary>Creates an empty database and returns a connection string to it.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (prefix.Length == 0 || !prefix.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_'))
        {
            throw new ArgumentException($"database prefix '{prefix}' must be lowercase letters, digits and '_'", nameof(prefix));
        }

        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 63)];
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name, Pooling = true }.ConnectionString;
    }

    /// <summary>Drops a database made by <see cref="CreateDatabaseAsync"/>, closing its connections first.</summary>
    public async Task DropDatabaseAsync(string connectionString, CancellationToken cancellationToken)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        NpgsqlConnection.ClearAllPools();
        if (_root is not null)
        {
            await StopAndDeleteAsync(_root, _binaries!, Environment.IsPrivilegedProcess);
        }
    }

    /// <summary>The directory holding initdb and pg_ctl.</summary>
    /// <exception cref="PostgresUnavailableException">None found.</exception>
    public static string FindBinaries()
    {
        var configured = Environment.GetEnvironmentVariable(BinariesVariable);
        var candidates = configured is { Length: > 0 }
            ? [configured]
            : Directory.Exists("/usr/lib/postgresql")
                ? Directory.GetDirectories("/usr/lib/postgresql")
                    .Select(d => (Dir: Path.Combine(d, "bin"), Version: int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0))
                    .OrderByDescending(c => c.Version)
                    .Select(c => c.Dir)
                    .ToArray()
                : Array.Empty<string>();

        var found = candidates.FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")));
        if (found is not null)
        {
            return found;
        }

        var looked = configured is { Length: > 0 } ? $"{BinariesVariable}={configured}" : "/usr/lib/postgresql/*/bin";
        var message =
            $"PostgreSQL server binaries (initdb, pg_ctl) were not found in {looked}. Install them (Debian: apt-get install postgresql), " +
            $"or set {ExternalServerVariable} to a connection string of a server to use, or set {BinariesVariable} to their directory.";
        var onCi = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
        var skipAsked = Environment.GetEnvironmentVariable(SkipVariable) == "1";
        throw onCi
            ? new PostgresUnavailableException(message + " CI=true: PostgreSQL tests never skip on CI.", skipReason: null)
            : skipAsked
                ? new PostgresUnavailableException(message, skipReason: $"PostgreSQL not installed and {SkipVariable}=1: {message}")
                : new PostgresUnavailableException(message + $" To skip the PostgreSQL tests on this machine instead, set {SkipVariable}=1.", skipReason: null);
    }

    private async Task PingAsync(CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT 1", connection);
        await command.ExecuteScalarAsync(cancellationToken);
    }

    /// <summary>Stops and deletes servers left by test processes that died before disposing them.</summary>
    private static void CleanUpAbandoned(string binaries, bool asPostgres)
    {
        var parent = asPostgres ? "/tmp" : Path.GetTempPath();
        foreach (var directory in Directory.EnumerateDirectories(parent, DirectoryPrefix + "*"))
        {
            try
            {
                var owner = int.Parse(File.ReadAllText(Path.Combine(directory, OwnerFile)), CultureInfo.InvariantCulture);
                if (IsAlive(owner))
                {
                    continue;
                }

                StopAndDeleteAsync(directory, binaries, asPostgres).GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException or InvalidOperationException)
            {
                // Not ours to judge, or half-made: leave it.
            }
        }
    }

    private static bool IsAlive(int processId)
    {
        try
        {
            using var process = Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static async Task StopAndDeleteAsync(string root, string binaries, bool asPostgres)
    {
        var data = Path.Combine(root, "data");
        if (File.Exists(Path.Combine(data, "postmaster.pid")))
        {
            try
            {
                // Immediate: the data is thrown away, so there is nothing to shut down cleanly.
                await RunAsync(Path.Combine(binaries, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "-t", "30", "stop"], asPostgres, CancellationToken.None);
            }
            catch (InvalidOperationException)
            {
                // Already stopped.
            }
        }

        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open; the next start's clean-up tries again.
        }
    }

    private static string ReadLogTail(string root)
    {
        var log = Path.Combine(root, "postgres.log");
        if (!File.Exists(log))
        {
            return "(no log)";
        }

        var lines = File.ReadAllLines(log);
        return string.Join('\n', lines.Skip(Math.Max(0, lines.Length - 20)));
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Runs a program to completion; as root, as the postgres user. Throws with its output when it fails.</summary>
    private static async Task RunAsync(string program, IReadOnlyList<string> arguments, bool asPostgres, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo
        {
            FileName = asPostgres ? "runuser" : program,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (asPostgres)
        {
            foreach (var a in (string[])["-u", "postgres", "--", program])
            {
                start.ArgumentList.Add(a);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);

        // pg_ctl's server redirects its own output to the log; do not wait forever if a child kept the pipes.
        var output = new StringBuilder();
        foreach (var stream in (Task<string>[])[stdout, stderr])
        {
            try
            {
                output.Append(await stream.WaitAsync(TimeSpan.FromSeconds(5), cancellationToken));
            }
            catch (TimeoutException)
            {
                output.Append("(output still open)");
            }
        }

        if (process.ExitCode != 0)
        {
            var command = string.Join(' ', start.ArgumentList.Prepend(start.FileName));
            throw new InvalidOperationException($"'{command}' exited with {process.ExitCode}:\n{output}");
        }
    }
}

/// <summary>
/// No PostgreSQL server can be had on this machine. <see cref="SkipReason"/> is set only when the
/// environment allows skipping (see <see cref="PostgresServer"/>); otherwise the tests must fail.
/// </summary>
public sealed class PostgresUnavailableException(string message, string? skipReason) : Exception(message)
{
    public string? SkipReason { get; } = skipReason;
}
