using System.ComponentModel;
using System.Globalization;
using ComputeBroker.Testing;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ComputeBroker.Load;

/// <summary>The load command's options, checked before anything runs: a wrong one names itself and the fix.</summary>
internal sealed class LoadSettings : CommandSettings
{
    /// <summary>The databases this command can measure (each run measures those of <c>--db</c>, in the order given).</summary>
    public static readonly IReadOnlyList<string> KnownDatabases = ["sqlite", "postgres"];

    // The numbers are read as text and parsed here (one rule each, for the check and the value), so that a wrong one is
    // reported with its option's name.
    [CommandOption("--requests <N>")]
    [Description("Workflows per service measurement, and single-row commits for the raw limit.")]
    [DefaultValue("2000")]
    public string RequestsText { get; set; } = "2000";

    [CommandOption("--concurrency <N>")]
    [Description("Concurrent HTTP clients (and connections for the raw limit).")]
    [DefaultValue("32")]
    public string ConcurrencyText { get; set; } = "32";

    [CommandOption("--pace <WORKFLOWS_PER_SECOND>")]
    [Description("Submit the paced measurement at this rate instead of half the raw limit: for comparing runs whose raw limits differ.")]
    public string? PaceText { get; set; }

    /// <summary>The options' values, once <see cref="Validate"/> has passed (each is read by the same rule as it checks).</summary>
    public int Requests => TryRequests(out var requests) ? requests : throw new InvalidOperationException("--requests was not validated");

    public int Concurrency => TryConcurrency(out var concurrency) ? concurrency : throw new InvalidOperationException("--concurrency was not validated");

    public double? Pace => PaceText is null ? null : TryPace(out var pace) ? pace : throw new InvalidOperationException("--pace was not validated");

    [CommandOption("--db <LIST>")]
    [Description("The databases to measure, comma-separated: sqlite, postgres or both.")]
    [DefaultValue("sqlite,postgres")]
    public string Db { get; set; } = "sqlite,postgres";

    [CommandOption("--gc-log")]
    [Description("Print a line per garbage collection during each service measurement (generation, kind, cause, pause, bytes promoted).")]
    public bool GcLog { get; set; }

    /// <summary>The databases of <see cref="Db"/>, each once, in the order given.</summary>
    public IReadOnlyList<string> Databases => Db.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToArray();

    public override ValidationResult Validate()
    {
        if (!TryRequests(out _))
        {
            return ValidationResult.Error($"--requests must be a whole number of at least 1 (it was '{RequestsText}'), e.g. --requests 4000");
        }

        if (!TryConcurrency(out _))
        {
            return ValidationResult.Error($"--concurrency must be a whole number from 1 to 1024 (it was '{ConcurrencyText}'), e.g. --concurrency 32");
        }

        if (PaceText is not null && !TryPace(out _))
        {
            return ValidationResult.Error($"--pace must be a number of workflows per second above 0 (it was '{PaceText}'), e.g. --pace 2000");
        }

        if (Databases.Count == 0)
        {
            return ValidationResult.Error("--db names no database; use sqlite, postgres or both, e.g. --db sqlite,postgres");
        }

        if (Databases.FirstOrDefault(d => !KnownDatabases.Contains(d)) is { } unknown)
        {
            return ValidationResult.Error($"--db: '{unknown}' is not a database this command measures; use sqlite, postgres or both, e.g. --db sqlite,postgres");
        }

        return ValidationResult.Success();
    }

    private bool TryRequests(out int requests) =>
        int.TryParse(RequestsText, NumberStyles.None, CultureInfo.InvariantCulture, out requests) && requests >= 1;

    private bool TryConcurrency(out int concurrency) =>
        int.TryParse(ConcurrencyText, NumberStyles.None, CultureInfo.InvariantCulture, out concurrency) && concurrency is >= 1 and <= 1024;

    private bool TryPace(out double pace) =>
        double.TryParse(PaceText, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out pace) && pace > 0 && double.IsFinite(pace);
}

/// <summary>Measures each database of <see cref="LoadSettings.Databases"/> and prints the tables.</summary>
internal sealed class LoadCommand : AsyncCommand<LoadSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, LoadSettings settings, CancellationToken cancellationToken)
    {
        var requests = settings.Requests;
        var concurrency = settings.Concurrency;
        var pace = settings.Pace;
        var gcLog = settings.GcLog ? Console.Out : null;
        var rows = new List<LoadRow>();

        foreach (var db in settings.Databases)
        {
            var dir = Directory.CreateTempSubdirectory("broker-load-");
            await using var postgres = db == "postgres" ? await PostgresServer.StartAsync(durable: true, CancellationToken.None) : null;
            try
            {
                string Connection(string name) => postgres is null
                    ? Path.Combine(dir.FullName, name + ".db")
                    : postgres.CreateDatabaseAsync(name, CancellationToken.None).GetAwaiter().GetResult();

                Console.WriteLine($"[{db}] raw limit: {requests} single-row commits at concurrency {concurrency}...");
                var rawConnection = Connection("raw");
                var raw = await RawCommits.MeasureAsync(db, rawConnection, requests, concurrency);
                Console.WriteLine($"[{db}] a lone commit: 1,000 single-row commits one at a time...");
                var alone = await RawCommits.MeasureAloneAsync(db, rawConnection, 1000);
                Console.WriteLine($"[{db}] service: {requests} request workflows at concurrency {concurrency}...");
                var service = await ServiceLoad.MeasureAsync(Connection("broker"), requests, concurrency, gcLog: gcLog);
                var paced = pace ?? raw.CommitsPerSecond / 2;
                Console.WriteLine($"[{db}] service: {requests} request workflows submitted at {paced:N0}/s ({(pace is null ? "half the raw limit" : "--pace")}), each sent when it is due...");
                var atHalf = await ServiceLoad.MeasureAsync(Connection("paced"), requests, concurrency, paced, gcLog);
                rows.Add(new LoadRow(db, raw.CommitsPerSecond, service, paced, atHalf, alone));
            }
            finally
            {
                dir.Delete(recursive: true);
            }
        }

        Console.WriteLine();
        Console.WriteLine("| database | raw limit (commits/s) | workflows/s at full load | ratio | events per workflow | submit p50 / p99 at full load | paced load (workflows/s) | submit p50 / p99 at paced load |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var row in rows)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {row.Database} | {row.Raw:N0} | {row.Service.WorkflowsPerSecond:N0} | {row.Service.WorkflowsPerSecond / row.Raw:N2} | {row.Service.EventsPerWorkflow:N1} | {row.Service.SubmitP50.TotalMilliseconds:N1} / {row.Service.SubmitP99.TotalMilliseconds:N1} ms | {row.Paced:N0} (achieved {row.AtHalf.WorkflowsPerSecond:N0}) | {row.AtHalf.SubmitP50.TotalMilliseconds:N1} / {row.AtHalf.SubmitP99.TotalMilliseconds:N1} ms |"));
        }

        Console.WriteLine();
        Console.WriteLine("| database | load | CPU per workflow (whole process) | database server CPU per workflow | allocated per workflow | kept per workflow | GC pauses | collections gen0 / gen1 / gen2 | appends per workflow | appends per commit | commit writer busy |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (database, load, result) in Measurements())
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {database} | {load} | {result.CpuPerWorkflow.TotalMicroseconds:N0} µs | {(result.DatabaseCpuPerWorkflow is { } server ? $"{server.TotalMicroseconds:N0} µs" : "in the process")} | {result.BytesPerWorkflow / 1024.0:N1} KB | {result.KeptPerWorkflow / 1024.0:N1} KB | {result.GcPause.TotalMilliseconds:N0} ms | {result.Collections} | {result.AppendsPerWorkflow:N1} | {result.AppendsPerCommit:N1} | {result.WriterBusy:P0} |"));
        }

        // What the submit latency's tail is made of: a submit waits for the commit in progress and then its own; a GC pause stops
        // everything; the JIT's background compilations take a core from the rest.
        Console.WriteLine();
        Console.WriteLine("| database | load | submit p99 | commit p50 / p99 / longest | longest GC pause | warm-up workflows | JIT during the run |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|");
        foreach (var (database, load, result) in Measurements())
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {database} | {load} | {result.SubmitP99.TotalMilliseconds:N1} ms | {result.CommitP50.TotalMilliseconds:N1} / {result.CommitP99.TotalMilliseconds:N1} / {result.CommitLongest.TotalMilliseconds:N1} ms | {result.LongestGcPause.TotalMilliseconds:N1} ms | {result.WarmupWorkflows:N0} | {result.JitMethods:N0} methods, {result.JitTime.TotalMilliseconds:N0} ms |"));
        }

        Console.WriteLine();
        Console.WriteLine("| database | a lone durable commit: p50 / p99 / longest |");
        Console.WriteLine("|---|---:|");
        foreach (var row in rows)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {row.Database} | {row.Alone.CommitP50.TotalMilliseconds:N2} / {row.Alone.CommitP99.TotalMilliseconds:N2} / {row.Alone.CommitMax.TotalMilliseconds:N2} ms |"));
        }

        Console.WriteLine($"{requests} workflows per measurement, {concurrency} concurrent clients, {Environment.ProcessorCount} cores; the raw limit is the same number of durable single-row commits at the same concurrency, measured in this run.");

        return 0;

        IEnumerable<(string Database, string Load, ServiceResult Result)> Measurements() =>
            rows.SelectMany(row => new[] { (row.Database, "full", row.Service), (row.Database, "paced", row.AtHalf) });
    }
}

internal sealed record LoadRow(string Database, double Raw, ServiceResult Service, double Paced, ServiceResult AtHalf, RawResult Alone);
