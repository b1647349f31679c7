using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using ComputeBroker.Server.Tests.Infrastructure;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace ComputeBroker.Server.Tests.Durability;

/// <summary>
/// The crash test of issue 3: <c>broker serve</c> as a child process at 3600x with fast simulated providers, a few
/// concurrent clients submitting with Idempotency-Keys, and SIGKILL at random points, four times, each followed by a
/// restart and the resubmission of every unacknowledged request with its key and body. At the end every acknowledged
/// request exists, reaches a terminal state exactly once, has no duplicated allocation, and the audit passes.
/// Every loop is bounded in count and time; the seed is printed, and BROKER_CRASH_SEED replays it.
/// </summary>
public abstract class CrashTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private const int Clients = 4;
    private const int MaxRequestsPerClient = 120;
    private const int Kills = 4;
    private const double Speed = 3600;
    private static readonly TimeSpan ReadyLimit = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan DrainLimit = TimeSpan.FromSeconds(60);
    private static readonly string[] WorkloadClasses = ["inference", "inference", "training", "research", "api"];
    private static readonly int[] Sizes = [8, 64, 256, 1024, 4096];

    protected PostgresFixture Postgres { get; } = postgres;

    protected abstract Task<TestDatabase> CreateDatabaseAsync();

    [SkippableFact]
    public async Task KilledAtRandomPointsUnderLoad_EveryAcknowledgedRequestClosesExactlyOnce_WithoutDuplicateAllocations_AndTheAuditPasses()
    {
        await using var db = await CreateDatabaseAsync();
        var seed = int.TryParse(Environment.GetEnvironmentVariable("BROKER_CRASH_SEED"), CultureInfo.InvariantCulture, out var given) ? given : Random.Shared.Next();
        output.WriteLine($"{db.Engine}: seed {seed} (set BROKER_CRASH_SEED={seed} to replay the kill points and the load)");
        var random = new Random(seed);
        var clock = Stopwatch.StartNew();
        using var directory = new TempDirectory("crash");
        var providers = directory.File("providers.yaml");
        await File.WriteAllTextAsync(providers, Examples.ProvidersFastForCrashes);
        var adminKey = BrokerProcess.NewAdminKey();
        using var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromSeconds(2), ConnectTimeout = TimeSpan.FromSeconds(2) };
        using var http = new HttpClient(handler, disposeHandler: false) { Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", adminKey);

        var world = new World(seed);
        var port = BrokerProcess.FreeLoopbackPort();
        BrokerProcess? broker = null;
        try
        {
            broker = await StartAsync();
            world.Broker = broker;
            var clients = Enumerable.Range(0, Clients).Select(i => Task.Run(() => ClientAsync(world, http, i, seed))).ToArray();
            for (var kill = 1; kill <= Kills; kill++)
            {
                await Task.Delay(random.Next(500, 3001));
                broker.Kill();
                output.WriteLine($"{clock.Elapsed.TotalSeconds,6:0.0}s  kill {kill}: {world.Acknowledged} acknowledged of {world.Specs.Count} sent so far");
                broker.Dispose();
                broker = await StartAsync();
                world.Broker = broker;
            }

            world.LoadOver = true;
            await Task.WhenAll(clients).WaitAsync(TimeSpan.FromSeconds(60));
            output.WriteLine($"{clock.Elapsed.TotalSeconds,6:0.0}s  load over: {world.Specs.Count} requests, {world.Acknowledged} acknowledged, {world.Replays} replays, {world.Retries} retries, {world.Specs.Count(s => s.CutInFlight)} cut in flight");
            foreach (var g in world.Errors.GroupBy(e => e)) output.WriteLine($"   {g.Count()} x {g.Key}");
            Assert.True(world.Unexpected.IsEmpty, "unexpected answers:\n" + string.Join('\n', world.Unexpected));
            Assert.All(world.Specs, s => Assert.True(s.Acknowledged, $"{s.Id} was never acknowledged"));

            var states = await DrainAsync(http, broker, world);
            output.WriteLine($"{clock.Elapsed.TotalSeconds,6:0.0}s  all terminal: {string.Join(", ", states.GroupBy(s => s.Value).Select(g => $"{g.Key} {g.Count()}"))}");

            await AssertEachRequestClosedOnceAsync(http, broker, world);
            await AssertIdempotencySurvivedAsync(http, broker, world);
            var audit = await http.PostAsync(new Uri(broker.BaseAddress, "/v1/audit/verify"), null).ExpectAsync(HttpStatusCode.OK);
            Assert.True(audit.GetProperty("passed").GetBoolean(), $"the audit failed:\n{audit}");
            Assert.Empty(audit.GetProperty("violations").EnumerateArray());
            output.WriteLine($"{clock.Elapsed.TotalSeconds,6:0.0}s  audit passed over {audit.GetProperty("eventsChecked").GetInt64()} events");
        }
        catch
        {
            output.WriteLine("--- last output of broker serve ---\n" + broker?.Output);
            throw;
        }
        finally
        {
            world.LoadOver = true;
            broker?.Dispose();
        }

        async Task<BrokerProcess> StartAsync()
        {
            for (var attempt = 1; ; attempt++)
            {
                var process = BrokerProcess.Start(
                    port,
                    ["--db", db.Location, "--speed", Speed.ToString(CultureInfo.InvariantCulture), "--agreement", Examples.FullPath(Examples.JanuaryAgreementPath), "--providers", providers, "--seed", seed.ToString(CultureInfo.InvariantCulture)],
                    new Dictionary<string, string> { ["BROKER_ADMIN_KEY"] = adminKey });
                if (await process.WaitUntilReadyAsync(http, ReadyLimit))
                {
                    await process.ReadClockAsync(http);
                    return process;
                }

                // The port was taken between runs, or the start failed: say why, and try once more on another port.
                output.WriteLine($"broker serve exited before it was ready (attempt {attempt}):\n{process.Output}");
                process.Dispose();
                if (attempt == 2)
                {
                    throw new XunitException("broker serve would not start");
                }

                port = BrokerProcess.FreeLoopbackPort();
            }
        }
    }

    /// <summary>
    /// One client: submits new requests while the kills go on (at most <see cref="MaxRequestsPerClient"/>), retrying every
    /// unacknowledged one with the same key and body until the broker acknowledges it.
    /// </summary>
    private static async Task ClientAsync(World world, HttpClient http, int client, int seed)
    {
        var random = new Random(seed + client + 1);
        var mine = new List<Spec>();
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (DateTime.UtcNow < until)
        {
            var next = mine.FirstOrDefault(s => !s.Acknowledged && !s.Abandoned && s.NextTry <= DateTime.UtcNow);
            if (next is null)
            {
                if (world.LoadOver || mine.Count >= MaxRequestsPerClient)
                {
                    if (mine.All(s => s.Acknowledged || s.Abandoned))
                    {
                        return;
                    }

                    await Task.Delay(50);
                    continue;
                }

                next = NewSpec(world, random, client, mine.Count);
                mine.Add(next);
                world.Specs.Add(next);
            }

            await SendAsync(world, http, next);
            await Task.Delay(random.Next(10, 60));
        }
    }

    /// <summary>
    /// A request whose body is fixed at creation, so every retry sends the same bytes. Its needed-by is twelve hours of
    /// broker time ahead: the broker clock is estimated from the current process's clock read at its start (it runs 3600x
    /// from there; a restart continues from the last event of the log). Twelve real seconds, then, for the retries across
    /// kills and restarts on a loaded machine (with three hours, retries that took longer were refused as needed-by in the
    /// past); the windows, which end by the needed-by, still close every request well within the drain.
    /// </summary>
    private static Spec NewSpec(World world, Random random, int client, int number)
    {
        var brokerNow = world.Broker!.BrokerNow();
        var id = $"crash-{client}-{number:000}-{world.Seed % 10000}";
        var body = new Dictionary<string, object?>
        {
            ["id"] = id,
            ["customer"] = "openai",
            ["workloadClass"] = WorkloadClasses[random.Next(WorkloadClasses.Length)],
            ["accelerator"] = "H100",
            ["gpus"] = Sizes[random.Next(Sizes.Length)],
            ["earliestStart"] = brokerNow.AddDays(30).ToString("O", CultureInfo.InvariantCulture),
            ["durationHours"] = 24 * random.Next(1, 30),
            ["maxPrice"] = "12.50 USD",
            ["neededBy"] = brokerNow.AddHours(12).ToString("O", CultureInfo.InvariantCulture),
            ["allOrNothing"] = random.Next(5) == 0,
        };
        return new Spec(id, $"key-{id}-{Guid.NewGuid():N}", JsonSerializer.Serialize(body), (int)body["gpus"]!);
    }

    private static async Task SendAsync(World world, HttpClient http, Spec spec)
    {
        var process = world.Broker!;
        spec.Attempts++;
        try
        {
            using var response = await http.PostRawAsync(new Uri(process.BaseAddress, "/v1/requests").ToString(), spec.Body, spec.Key);
            var text = await response.Content.ReadAsStringAsync();
            switch (response.StatusCode)
            {
                case HttpStatusCode.Created:
                    var id = JsonDocument.Parse(text).RootElement.GetProperty("id").GetString();
                    if (id != spec.Id)
                    {
                        world.Unexpected.Add($"{spec.Id}: acknowledged as {id}");
                    }

                    if (response.Headers.Contains("Idempotent-Replayed"))
                    {
                        Interlocked.Increment(ref world.ReplayCount);
                    }

                    spec.Acknowledged = true;
                    return;
                case HttpStatusCode.Conflict when text.Contains("retry shortly", StringComparison.Ordinal):
                    break;
                default:
                    world.Unexpected.Add($"{spec.Id} attempt {spec.Attempts}: {(int)response.StatusCode} {text}");
                    spec.Abandoned = true;
                    return;
            }
        }
        catch (HttpRequestException e)
        {
            // The broker is down (killed or starting): retry later with the same key and body.
            if (e.HttpRequestError != HttpRequestError.ConnectionError)
            {
                spec.CutInFlight = true;
            }

            world.Errors.Add($"{e.HttpRequestError} {e.InnerException?.GetType().Name} {e.InnerException?.Message}");
        }
        catch (TaskCanceledException)
        {
            // The connection died with the process.
        }

        Interlocked.Increment(ref world.RetryCount);
        spec.NextTry = DateTime.UtcNow + TimeSpan.FromMilliseconds(100);
    }

    /// <summary>Polls the request list until every request is terminal; bounded by <see cref="DrainLimit"/>.</summary>
    private static async Task<Dictionary<string, string>> DrainAsync(HttpClient http, BrokerProcess broker, World world)
    {
        var until = DateTime.UtcNow + DrainLimit;
        var states = new Dictionary<string, string>();
        while (true)
        {
            states.Clear();
            string? cursor = null;
            for (var pages = 0; pages < 100; pages++)
            {
                var page = await http.GetAsync(new Uri(broker.BaseAddress, "/v1/requests?limit=500" + (cursor is null ? string.Empty : "&cursor=" + Uri.EscapeDataString(cursor)))).ExpectAsync(HttpStatusCode.OK);
                foreach (var r in page.Items())
                {
                    states[r.Str("id")] = r.Str("state");
                }

                cursor = page.GetProperty("nextCursor").ValueKind == JsonValueKind.String ? page.Str("nextCursor") : null;
                if (cursor is null)
                {
                    break;
                }
            }

            var open = states.Where(s => !Polling.TerminalStates.Contains(s.Value)).ToArray();
            if (open.Length == 0)
            {
                Assert.Equal(world.Specs.Select(s => s.Id).Order(), states.Keys.Order());
                return states;
            }

            if (DateTime.UtcNow > until)
            {
                throw new XunitException($"{open.Length} requests are not terminal after {DrainLimit}: {string.Join(", ", open.Take(10).Select(o => $"{o.Key} {o.Value}"))}");
            }

            await Task.Delay(250);
        }
    }

    private static async Task AssertEachRequestClosedOnceAsync(HttpClient http, BrokerProcess broker, World world)
    {
        var failures = new List<string>();
        foreach (var spec in world.Specs)
        {
            var shown = await http.GetAsync(new Uri(broker.BaseAddress, $"/v1/requests/{spec.Id}")).ExpectAsync(HttpStatusCode.OK);
            var request = shown.GetProperty("request");
            var timeline = shown.GetProperty("timeline").EnumerateArray().ToArray();
            var types = timeline.Select(t => t.Str("type")).ToArray();
            var closed = types.Count(t => t == "request.closed");
            if (closed != 1 || types[^1] != "request.closed")
            {
                failures.Add($"{spec.Id}: {closed} request.closed events; timeline {string.Join(" ", types)}");
            }

            if (!timeline.Select(t => t.GetProperty("version").GetInt64()).SequenceEqual(Enumerable.Range(0, timeline.Length).Select(i => (long)i)))
            {
                failures.Add($"{spec.Id}: versions are not 0..{timeline.Length - 1}");
            }

            var allocations = timeline.Where(t => t.Str("type") == "allocation.made").Select(t => t.GetProperty("event")).ToArray();
            var allocated = allocations.Sum(a => a.GetProperty("gpus").GetInt32());
            if (allocated > spec.Gpus || request.Int("allocated") > spec.Gpus)
            {
                failures.Add($"{spec.Id}: {allocated} GPUs allocated of {spec.Gpus} requested");
            }

            var confirmedAwards = allocations.Where(a => a.GetProperty("award").ValueKind == JsonValueKind.Number).Select(a => a.GetProperty("award").GetInt32()).ToArray();
            if (confirmedAwards.Length != confirmedAwards.Distinct().Count())
            {
                failures.Add($"{spec.Id}: an award was confirmed twice: {string.Join(", ", confirmedAwards)}");
            }

            var awards = timeline.Where(t => t.Str("type") == "award.made").Select(t => t.GetProperty("event").GetProperty("award").GetInt32()).ToArray();
            if (awards.Length != awards.Distinct().Count())
            {
                failures.Add($"{spec.Id}: an award number was made twice: {string.Join(", ", awards)}");
            }

            if (request.GetProperty("unfulfilled").ValueKind == JsonValueKind.Number && request.Int("allocated") + request.Int("unfulfilled") != spec.Gpus
                && request.Str("state") != "cancelled")
            {
                failures.Add($"{spec.Id}: allocated {request.Int("allocated")} + unfulfilled {request.Int("unfulfilled")} != {spec.Gpus}");
            }
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    /// <summary>After all the kills, each key still gives the same answer: the same request, marked as a replay.</summary>
    private static async Task AssertIdempotencySurvivedAsync(HttpClient http, BrokerProcess broker, World world)
    {
        foreach (var spec in world.Specs)
        {
            using var response = await http.PostRawAsync(new Uri(broker.BaseAddress, "/v1/requests").ToString(), spec.Body, spec.Key);
            Assert.Equal(spec.Id, (await response.ExpectAsync(HttpStatusCode.Created)).Str("id"));
            Assert.True(response.Headers.Contains("Idempotent-Replayed"), $"{spec.Id}: a resubmission after the crashes was not a replay");
        }
    }

    private sealed class Spec(string id, string key, string body, int gpus)
    {
        public string Id { get; } = id;

        public string Key { get; } = key;

        public string Body { get; } = body;

        public int Gpus { get; } = gpus;

        public volatile bool Acknowledged;

        public volatile bool Abandoned;

        /// <summary>An attempt died after it reached the broker (the kill cut the connection), not at connect.</summary>
        public volatile bool CutInFlight;

        public int Attempts;

        public DateTime NextTry;
    }

    private sealed class World(int seed)
    {
        public int Seed { get; } = seed;

        public volatile BrokerProcess? Broker;

        public volatile bool LoadOver;

        public int ReplayCount;

        public int RetryCount;

        public ConcurrentBag<Spec> Specs { get; } = [];

        public ConcurrentBag<string> Unexpected { get; } = [];

        public ConcurrentBag<string> Errors { get; } = [];

        public int Acknowledged => Specs.Count(s => s.Acknowledged);

        public int Replays => Volatile.Read(ref ReplayCount);

        public int Retries => Volatile.Read(ref RetryCount);
    }
}

[Collection(DurableCollection.Name)]
public sealed class SqliteCrashTests(PostgresFixture postgres, ITestOutputHelper output) : CrashTests(postgres, output)
{
    protected override Task<TestDatabase> CreateDatabaseAsync() => Task.FromResult<TestDatabase>(new SqliteTestDatabase());
}

[Collection(DurableCollection.Name)]
public sealed class PostgresCrashTests(PostgresFixture postgres, ITestOutputHelper output) : CrashTests(postgres, output)
{
    protected override Task<TestDatabase> CreateDatabaseAsync() => PostgresTestDatabase.CreateAsync(Postgres);
}
