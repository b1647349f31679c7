using System.Diagnostics;
using ComputeBroker.Simulation;
using ComputeBroker.Simulation.Scenarios;

var path = args.Length > 0 ? args[0] : "/work/wt-sim/examples/scenarios/default.yaml";
var parsed = ScenarioReader.ReadFile(path);
if (!parsed.Ok) { foreach (var e in parsed.Errors) Console.WriteLine(e); return 1; }
var sw = Stopwatch.StartNew();
var outcome = Simulator.Run(parsed.Value!.Variants, new SimulationSettings { OutputDirectory = args.Length > 1 ? args[1] : "/tmp/simout", Runs = args.Length > 2 ? int.Parse(args[2]) : 1 });
Console.WriteLine($"{sw.Elapsed.TotalSeconds:F1}s");
Console.WriteLine(outcome.SummaryJson[..Math.Min(3000, outcome.SummaryJson.Length)]);
return 0;
