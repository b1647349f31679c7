using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ComputeBroker.Contracts;
using ComputeBroker.Domain;
using ComputeBroker.Load;
using ComputeBroker.Providers;
using ComputeBroker.Server.Hosting;
using ComputeBroker.Server.Security;
using ComputeBroker.Testing;

// The durable service under load: N request workflows (submit over HTTP, first-refusal offer answered in
// part by the holder, four quotes, awards, reservations) on SQLite and on PostgreSQL, beside the raw limit of
// each database measured in the same run: N durable single-row commits at the same concurrency, doing nothing else.
var requests = Arg("--requests", 2000);
var concurrency = Arg("--concurrency", 32);
// --pace N replaces the paced load (half the raw limit) by N workflows per second: for comparing runs whose raw limits differ.
var pace = ArgText("--pace") is { } paceText ? double.Parse(paceText, CultureInfo.InvariantCulture) : (double?)null;
var databases = (ArgText("--db") ?? "sqlite,postgres").Split(',', StringSplitOptions.RemoveEmptyEntries);
// --gc-log: a line per garbage collection during each service measurement (generation, kind, cause, pause, bytes promoted).
var gcLog = args.Contains("--gc-log") ? Console.Out : null;
var rows = new List<LoadRow>();

foreach (var db in databases)
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
        Console.WriteLine($"[{db}] service: {requests} request workflows submitted at {paced:N0}/s ({(pace is null ? "half the raw limit" : "--pace")})...");
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

int Arg(string name, int fallback) => ArgText(name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

string? ArgText(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

internal sealed record LoadRow(string Database, double Raw, ServiceResult Service, double Paced, ServiceResult AtHalf, RawResult Alone);
