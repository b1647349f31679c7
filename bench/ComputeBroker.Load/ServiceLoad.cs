using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Runtime;
using System.Text;
using System.Text.Json;
using ComputeBroker.Domain;
using ComputeBroker.Providers;
using ComputeBroker.Server.Hosting;
using ComputeBroker.Server.Service;
using Microsoft.Extensions.DependencyInjection;
using ComputeBroker.Storage;
using Npgsql;

namespace ComputeBroker.Load;

/// <summary>What the service sustained: workflows per second from first submit to last close, and submit latency.</summary>
/// <remarks>
/// CPU and allocation per workflow are the whole process's (broker, HTTP clients and all) over the measured span: what to
/// compare when the machine's cores, not the database, are the limit.
/// </remarks>
internal sealed record ServiceResult(int Requests, double WorkflowsPerSecond, TimeSpan SubmitP50, TimeSpan SubmitP99, double EventsPerWorkflow,
    TimeSpan CpuPerWorkflow, long BytesPerWorkflow, TimeSpan GcPause, string Collections, double AppendsPerCommit, double WriterBusy, double AppendsPerWorkflow,
    TimeSpan? DatabaseCpuPerWorkflow, TimeSpan CommitP50, TimeSpan CommitP99, TimeSpan CommitLongest, TimeSpan LongestGcPause,
    long KeptPerWorkflow, int WarmupWorkflows, long JitMethods, TimeSpan JitTime);

/// <summary>
/// Runs <c>broker serve</c>'s application in this process on loopback, with providers that answer at once,
/// and drives it over HTTP from <c>concurrency</c> clients.
/// </summary>
internal static class ServiceLoad
{
    /// <summary>Warm-up rounds at most; a broker whose JIT has not settled by then is measured as it is (the table shows the JIT's share).</summary>
    private const int MaxWarmupRounds = 6;

    /// <summary>Methods compiled in a warm-up round below which the JIT is taken as settled.</summary>
    private const int SettledJit = 25;

    /// <param name="gcLog">Where to write a line per garbage collection during the measurement; none when null.</param>
    public static async Task<ServiceResult> MeasureAsync(string database, int requests, int concurrency, double? perSecond = null, TextWriter? gcLog = null)
    {
        var adminKey = "cbk_00000000aa_" + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
        Environment.SetEnvironmentVariable("BROKER_ADMIN_KEY", adminKey);
        var port = FreePort();
        var url = $"http://127.0.0.1:{port}";
        var options = new ServeOptions
        {
            Database = database,
            Urls = url,
            Providers = Providers(),
            Agreements = [("microsoft-openai-2025-01.yaml", await File.ReadAllTextAsync(FindExample("examples/agreements/microsoft-openai-2025-01.yaml")))],
        };
        await using var app = await BrokerHost.BuildAsync(options, CancellationToken.None);
        await app.StartAsync();
        var heldAtStart = GC.GetTotalMemory(forceFullCollection: true);
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(2) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
            var created = await http.PostAsync("/v1/keys", Json(new { role = "customer:openai" }));
            created.EnsureSuccessStatusCode();
            var customerKey = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("key").GetString();
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", customerKey);

            // Warm-up on the same host, not measured: the JIT compiles the hot paths during the first workflows and, once their
            // calls have been counted, recompiles the hottest (tiered compilation) on a background thread, a round or two later.
            // A long-running broker pays that once at start, so rounds go on until one compiles next to nothing.
            var warmup = Math.Max(500, requests / 2);
            var warmed = 0;
            for (var round = 0; round < MaxWarmupRounds; round++)
            {
                var compiledBefore = JitInfo.GetCompiledMethodCount();
                await RunAsync(http, $"warm{round}", warmup, concurrency, null, new double[warmup]);
                warmed += warmup;
                await WaitClosedAsync(http, warmed);
                if (JitInfo.GetCompiledMethodCount() - compiledBefore <= SettledJit)
                {
                    break;
                }
            }

            if (database.Contains('='))
            {
                await CheckpointAsync(database);
            }

            var broker = app.Services.GetRequiredService<BrokerService>();
            var eventsBefore = (await broker.Store.HeadAsync(CancellationToken.None)).EventCount;

            var latencies = new double[requests];
            var process = Process.GetCurrentProcess();
            var cpuBefore = process.TotalProcessorTime;
            var databaseCpuBefore = PostgresCpu();
            using var stalls = new Stalls(gcLog);
            var bytesBefore = GC.GetTotalAllocatedBytes(precise: false);
            var pauseBefore = GC.GetTotalPauseDuration();
            int[] collectionsBefore = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
            var commitsBefore = broker.Commits;
            var jitBefore = JitInfo.GetCompiledMethodCount();
            var jitTimeBefore = JitInfo.GetCompilationTime();
            var watch = Stopwatch.StartNew();
            await RunAsync(http, "load", requests, concurrency, perSecond, latencies);

            // Every workflow is done when every request is closed.
            await WaitClosedAsync(http, warmed + requests);

            var elapsed = watch.Elapsed;
            var jitMethods = JitInfo.GetCompiledMethodCount() - jitBefore;
            var jitTime = JitInfo.GetCompilationTime() - jitTimeBefore;
            process.Refresh();
            var cpu = process.TotalProcessorTime - cpuBefore;
            var databaseCpu = PostgresCpu() - databaseCpuBefore;
            var commitMilliseconds = stalls.CommitMilliseconds();
            var longestPause = stalls.LongestPause;
            stalls.Dispose(); // before the full collection below, which is not one of the measurement's pauses
            var bytes = GC.GetTotalAllocatedBytes(precise: false) - bytesBefore;
            var pause = GC.GetTotalPauseDuration() - pauseBefore;
            var commits = broker.Commits;
            Array.Sort(latencies);
            var head = await broker.Store.HeadAsync(CancellationToken.None);

            // What the broker keeps per workflow once the measurement is over (and its pauses counted): the heap after a full
            // collection, less what it held before the first request, over every workflow it has run.
            var kept = (GC.GetTotalMemory(forceFullCollection: true) - heldAtStart) / (warmed + requests);
            return new ServiceResult(
                requests,
                requests / elapsed.TotalSeconds,
                RawCommits.Percentile(latencies, 0.50),
                RawCommits.Percentile(latencies, 0.99),
                (double)(head.EventCount - eventsBefore) / requests,
                cpu / requests,
                bytes / requests,
                pause,
                string.Join(" / ", Enumerable.Range(0, 3).Select(g => GC.CollectionCount(g) - collectionsBefore[g])),
                (double)(commits.Appends - commitsBefore.Appends) / Math.Max(1, commits.Groups - commitsBefore.Groups),
                (commits.Busy - commitsBefore.Busy) / elapsed,
                (double)(commits.Appends - commitsBefore.Appends) / requests,
                options.Database.Contains('=') ? databaseCpu / requests : null,
                RawCommits.Percentile(commitMilliseconds, 0.50),
                RawCommits.Percentile(commitMilliseconds, 0.99),
                TimeSpan.FromMilliseconds(commitMilliseconds.DefaultIfEmpty(0).Max()),
                longestPause,
                kept,
                warmed,
                jitMethods,
                jitTime);
        }
        finally
        {
            await app.StopAsync();
        }
    }

    /// <summary>
    /// Submits <paramref name="count"/> requests from <paramref name="concurrency"/> clients, as fast as they are answered or, with
    /// <paramref name="perSecond"/>, on a fixed schedule (open loop); each submit's latency in milliseconds goes to <paramref name="latencies"/>.
    /// </summary>
    /// <remarks>
    /// On a schedule, each submit is sent when it is due however many earlier ones are still unanswered, so the latency measured
    /// is the service's, not a wait for a free client that no one measures.
    /// </remarks>
    private static async Task RunAsync(HttpClient http, string prefix, int count, int concurrency, double? perSecond, double[] latencies)
    {
        var now = DateTimeOffset.UtcNow;
        if (perSecond is { } rate)
        {
            // Open loop: request i is due at i / rate seconds, whatever the earlier ones are doing.
            var watch = Stopwatch.StartNew();
            var sent = new Task[count];
            for (var i = 0; i < count; i++)
            {
                var due = TimeSpan.FromSeconds(i / rate) - watch.Elapsed;
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due);
                }

                sent[i] = SubmitAsync(i);
            }

            await Task.WhenAll(sent);
            return;
        }

        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                await SubmitAsync(i);
            }
        })));

        async Task SubmitAsync(int i)
        {
            var body = Json(new
            {
                id = $"{prefix}-{i}",
                workloadClass = "training",
                accelerator = "H200",
                gpus = 64,
                earliestStart = now.AddDays(30).ToString("O", CultureInfo.InvariantCulture),
                durationHours = 24,
                maxPrice = "15.00 USD",
                neededBy = now.AddDays(10).ToString("O", CultureInfo.InvariantCulture),
            });
            var started = Stopwatch.GetTimestamp();
            using var response = await http.PostAsync("/v1/requests", body);
            latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (response.StatusCode != HttpStatusCode.Created)
            {
                throw new InvalidOperationException($"submit {prefix}-{i}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }
    }

    /// <summary>Waits until <paramref name="total"/> requests are closed (the overview counts closed requests).</summary>
    private static async Task WaitClosedAsync(HttpClient http, int total)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var overview = JsonDocument.Parse(await http.GetStringAsync("/v1/overview")).RootElement;
            var closed = overview.GetProperty("summary").GetProperty("requests").GetInt32();
            if (closed >= total)
            {
                return;
            }

            if (deadline.Elapsed > TimeSpan.FromMinutes(5))
            {
                throw new TimeoutException($"only {closed} of {total} workflows finished in 5 minutes");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>
    /// Asks the PostgreSQL server for a checkpoint, which recycles the write-ahead-log files it no longer needs as the next
    /// ones. A server that has been running has such files ready; a fresh one creates each 16 MB file as the log reaches
    /// it, zero-filled, inside whichever commit gets there: on this command's fresh server about one commit a second took
    /// 17 to 31 ms at 2,200 workflows/s (the server's log, <c>log_min_duration_statement</c>). After the warm-up, so that
    /// the measurement runs on recycled files as a running broker's server does. A server that refuses (a role without
    /// the right to checkpoint) is measured as it is, and said so.
    /// </summary>
    private static async Task CheckpointAsync(string connectionString)
    {
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var checkpoint = new NpgsqlCommand("CHECKPOINT", connection);
            await checkpoint.ExecuteNonQueryAsync();
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            Console.WriteLine($"  (no checkpoint before the measurement: {e.MessageText}; write-ahead-log files may be created during it)");
        }
    }

    /// <summary>
    /// CPU time used so far by every process named <c>postgres</c> on this machine (the server this command started, and any other),
    /// from <c>/proc</c>; zero where there is none. What the database server adds to the broker's own CPU per workflow.
    /// </summary>
    private static TimeSpan PostgresCpu()
    {
        if (!Directory.Exists("/proc"))
        {
            return TimeSpan.Zero;
        }

        long ticks = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                // /proc/PID/stat: "pid (comm) state ...", utime and stime the 12th and 13th fields after the command's ")".
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var close = stat.LastIndexOf(')');
                if (close < 0 || !stat.AsSpan(0, close).EndsWith("(postgres", StringComparison.Ordinal))
                {
                    continue;
                }

                var fields = stat[(close + 2)..].Split(' ');
                ticks += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                // The process ended meanwhile, or the entry is not a process.
            }
        }

        // In USER_HZ clock ticks, 100 per second on every Linux architecture .NET runs on.
        return TimeSpan.FromSeconds(ticks / 100.0);
    }

    /// <summary>The holder has no H200 free and declines; four third parties with ample capacity quote at once.</summary>
    private static IReadOnlyList<ProviderDefinition> Providers()
    {
        var instant = new AnswerPolicy(TimeSpan.Zero, TimeSpan.Zero, 1.0, [], true, 0.0);
        var start = DateTimeOffset.UtcNow.AddDays(-1);
        ProviderDefinition Provider(string id, decimal price, int gpus) => new(
            new ProviderId(id), id, ConnectorKind.Simulated, ["r1"],
            [new ProviderPrice("H200", null, new PricePerGpuHour(Money.Usd(price)))],
            gpus == 0 ? [] : [new CapacityChange("H200", "r1", start, gpus)],
            instant);
        return [Provider("azure", 12.00m, 0), Provider("oracle", 12.25m, 10_000_000), Provider("stargate", 11.50m, 10_000_000), Provider("coreweave", 9.00m, 10_000_000), Provider("aws", 10.50m, 10_000_000)];
    }

    private static StringContent Json(object body) => new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string FindExample(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"{relative} not found above {AppContext.BaseDirectory}; run from the repository");
    }
}
