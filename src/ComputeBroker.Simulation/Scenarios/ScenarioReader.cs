using System.Globalization;
using ComputeBroker.Contracts;
using ComputeBroker.Definitions;
using ComputeBroker.Domain;
using ComputeBroker.Providers;
using ComputeBroker.Simulation.Demand;
using ComputeBroker.Simulation.Finance;
using ComputeBroker.Sourcing;
using YamlDotNet.RepresentationModel;

namespace ComputeBroker.Simulation.Scenarios;

/// <summary>
/// Reads <c>kind: scenario</c> files. Errors read like the definitions' errors (file, path inside it, and
/// the fix) and reading goes on after the first so that one run shows them all. Agreement and providers
/// files are named by paths relative to the scenario file and read with <see cref="DefinitionReader"/>, so a
/// scenario takes exactly the files the server takes; their errors carry their own file names.
/// A scenario may name a <c>base:</c> scenario whose top-level keys it inherits (each key it gives replaces
/// the base's), and may list <c>variants:</c>, each a name and top-level keys that replace the scenario's:
/// one file then compares, for example, a 3-day against a 14-day response window on the same demand.
/// Pure apart from <c>readFile</c>, which the caller supplies (disk, or the examples embedded in the CLI).
/// </summary>
public static class ScenarioReader
{
    private const int MaxBaseDepth = 5;

    private static readonly string[] SectionKeys =
        ["description", "horizon", "seed", "agreements", "providers", "response-window", "capacity", "answers", "demand", "financials"];

    private static readonly string[] RootKeys = ["kind", "name", "base", "variants", .. SectionKeys];
    private static readonly string[] VariantKeys = ["name", .. SectionKeys];
    private static readonly string[] HorizonKeys = ["start", "end"];
    private static readonly string[] CapacityKeys = ["provider", "accelerator", "region", "gpus", "from", "ramp-until"];
    private static readonly string[] AnswerKeys = ["latency", "reliability", "decline-classes", "accept-partial", "reservation-failure-rate"];
    private static readonly string[] LatencyKeys = ["min", "max"];
    private static readonly string[] DemandKeys =
    [
        "id", "customer", "workload-class", "accelerator", "accelerators", "regions", "arrivals", "bursts", "size", "duration",
        "lead-time", "needed-within", "max-price", "all-or-nothing", "from", "until", "requests",
    ];

    private static readonly string[] ArrivalKeys = ["per-day", "growth", "growth-per-year", "every"];
    private static readonly string[] PoissonKeys = ["per-day", "growth", "growth-per-year"];
    private static readonly string[] BurstKeys = ["from", "until", "per-day"];
    private static readonly string[] SizeKeys = ["choices", "log-normal", "growth-per-year", "multiple-of", "min", "max"];
    private static readonly string[] LogNormalKeys = ["median", "sigma"];
    private static readonly string[] DurationKeys = ["choices"];
    private static readonly string[] FinancialKeys =
        ["customer", "quarterly-revenue", "revenue-growth-per-year", "margin-start", "margin-end", "margin-end-at", "revenue-noise"];

    /// <summary>Reads a scenario file from disk (paths inside it are relative to it).</summary>
    public static Parsed<ScenarioFile> ReadFile(string path) =>
        File.Exists(path)
            ? Read(File.ReadAllText(path), path, p => File.Exists(p) ? File.ReadAllText(p) : null)
            : new Parsed<ScenarioFile>(null, [new DefinitionError(path, "(file)", "no such file; check the path")]);

    /// <param name="text">The scenario's text.</param>
    /// <param name="file">The scenario's path: named in messages and the base for relative paths inside it.</param>
    /// <param name="readFile">Reads a file the scenario names (a resolved path), or returns null when there is none.</param>
    public static Parsed<ScenarioFile> Read(string text, string file, Func<string, string?> readFile)
    {
        var context = new ReadContext(readFile);
        var layers = context.LoadChain(text, file);
        if (layers is null)
        {
            return context.Failed();
        }

        var top = layers[0];
        var variants = new List<Scenario>();
        var name = top.Root.Text("name", "the scenario's name, shown in the report, e.g. default") ?? Path.GetFileNameWithoutExtension(file);
        var variantNodes = top.Root.Items("variants");
        if (variantNodes is null || variantNodes.Count == 0)
        {
            if (top.Root.Has("variants") && variantNodes is { Count: 0 })
            {
                top.Root.Error("variants", "is empty; list at least two variants (name and the keys they change), or remove it");
            }

            var scenario = context.Build(layers, name, file);
            if (scenario is not null)
            {
                variants.Add(scenario);
            }
        }
        else
        {
            var names = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (node, path) in variantNodes)
            {
                if (YamlMap.Of(top.Root.Diagnostics, node, path, "name and the top-level keys the variant changes") is not { } map)
                {
                    continue;
                }

                map.AllowOnly(VariantKeys, "a variant");
                var variantName = map.Text("name", "the variant's name, shown in the report, e.g. 3-day window");
                if (variantName is not null && !names.TryAdd(variantName, path))
                {
                    map.Error("name", $"duplicate variant name '{variantName}' (also {names[variantName]}); give each variant its own name");
                }

                var scenario = context.Build([new Layer(map, top.File), .. layers], variantName ?? path, file);
                if (scenario is not null)
                {
                    variants.Add(scenario);
                }
            }
        }

        return context.Errors.Count > 0
            ? context.Failed()
            : new Parsed<ScenarioFile>(new ScenarioFile(file, variants), []);
    }

    /// <summary>One scenario file's root map (or a variant's map), in the order keys are looked up.</summary>
    private sealed record Layer(YamlMap Root, string File);

    private sealed class ReadContext(Func<string, string?> readFile)
    {
        private readonly List<Diagnostics> _diagnostics = [];
        private readonly List<DefinitionError> _external = [];
        private readonly Dictionary<string, Agreement?> _agreements = new(StringComparer.Ordinal);
        private readonly Dictionary<string, ProvidersFile?> _providers = new(StringComparer.Ordinal);
        private readonly Dictionary<string, IReadOnlyList<ScheduledRequest>?> _requests = new(StringComparer.Ordinal);

        public List<DefinitionError> Errors => [.. _diagnostics.SelectMany(d => d.Errors), .. _external];

        public Parsed<ScenarioFile> Failed() => new(null, Errors.Distinct().ToArray());

        /// <summary>The file's root map and those of its bases, nearest first; null when one could not be read.</summary>
        public List<Layer>? LoadChain(string text, string file)
        {
            var layers = new List<Layer>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            string? currentText = text;
            var current = file;
            YamlMap? from = null;
            while (true)
            {
                if (!seen.Add(current))
                {
                    from!.Error("base", $"'{current}' is already part of this chain of bases; a scenario cannot be its own base");
                    return null;
                }

                if (layers.Count > MaxBaseDepth)
                {
                    from!.Error("base", $"more than {MaxBaseDepth} bases deep; name a scenario that holds the keys directly");
                    return null;
                }

                var diagnostics = new Diagnostics(current);
                _diagnostics.Add(diagnostics);
                if (YamlInput.Load(currentText!, diagnostics) is not { } node)
                {
                    return null;
                }

                if (node is not YamlMappingNode mapping)
                {
                    diagnostics.Add("(document)", $"must be a mapping that starts with 'kind: scenario', not {YamlMap.Describe(node)}", node);
                    return null;
                }

                var root = new YamlMap(diagnostics, mapping, string.Empty);
                var kind = root.Text("kind", "'kind: scenario' at the top of the file");
                if (kind is not null && kind != "scenario")
                {
                    root.Error("kind", YamlInput.Kinds.ContainsKey(kind)
                        ? $"is '{kind}', but a scenario file was expected; name {kind} files from the scenario (agreements:, providers:, requests:) and pass the scenario"
                        : $"unknown kind '{kind}'{Spelling.Hint(kind, ["scenario"])}");
                    return null;
                }

                root.AllowOnly(layers.Count == 0 ? RootKeys : RootKeys.Where(k => k != "variants").ToArray(), layers.Count == 0 ? "a scenario" : "a base scenario (its variants are not inherited)");
                layers.Add(new Layer(root, current));
                if (root.Text("base") is not { } baseName)
                {
                    return layers;
                }

                var next = ScenarioPaths.Resolve(current, baseName);
                currentText = readFile(next);
                if (currentText is null)
                {
                    root.Error("base", $"'{baseName}' was not found (looked for {next}); paths are relative to the scenario file");
                    return null;
                }

                from = root;
                current = next;
            }
        }

        /// <summary>Builds one scenario from the layers (a variant's map first, then the file, then its bases); null after reporting.</summary>
        public Scenario? Build(List<Layer> layers, string name, string file)
        {
            var before = Errors.Count;
            Layer? Find(string key) => layers.FirstOrDefault(l => l.Root.Has(key));

            string? description = Find("description")?.Root.Text("description");

            DateTimeOffset? start = null;
            DateTimeOffset? end = null;
            if (Find("horizon") is { } h && h.Root.Map("horizon", "start and end, dates such as 2025-01-01") is { } horizon)
            {
                horizon.AllowOnly(HorizonKeys, "horizon");
                start = Date(horizon, "start", "the first day simulated, e.g. 2025-01-01");
                end = Date(horizon, "end", "the day after the last day simulated (exclusive), e.g. 2031-01-01");
                if (start is { } s && end is { } e && e <= s)
                {
                    horizon.Error("end", $"{Format(e)} is not after start {Format(s)}; the horizon runs from start to end (exclusive)");
                }
            }
            else if (Find("horizon") is null)
            {
                layers[^1].Root.Error("horizon", "is missing; add horizon: { start: 2025-01-01, end: 2031-01-01 }");
            }

            var seed = Find("seed")?.Root.Integer("seed", null, 0, "a seed (a whole number)") ?? 1;

            ContractBook? book = null;
            var agreementFiles = new List<string>();
            if (Find("agreements") is { } a)
            {
                book = ReadAgreements(a, agreementFiles);
            }
            else
            {
                book = ContractBook.Empty;
            }

            ProvidersFile? providersFile = null;
            if (Find("providers") is { } p)
            {
                if (p.Root.Text("providers", "the providers file, relative to the scenario, e.g. ../providers.yaml") is { } providersName)
                {
                    providersFile = ReadProviders(p, providersName);
                }
            }
            else
            {
                layers[^1].Root.Error("providers", "is missing; add the providers file, relative to the scenario, e.g. providers: ../providers.yaml");
            }

            TimeSpan? window = Find("response-window")?.Root.Duration("response-window", null);
            var providers = providersFile?.Providers.ToList();
            if (providers is not null && Find("capacity") is { } c)
            {
                AddCapacity(c.Root, providers);
            }

            if (providers is not null && Find("answers") is { } ans)
            {
                OverrideAnswers(ans.Root, providers);
            }

            var demand = Find("demand") is { } d && start is not null && end is not null ? ReadDemand(d, start.Value) : null;
            if (Find("demand") is null)
            {
                layers[^1].Root.Error("demand", "is missing; add at least one demand stream (id, customer, workload-class, accelerator, arrivals, size, duration, needed-within, max-price)");
            }

            var financials = Find("financials") is { } f && end is not null ? ReadFinancials(f.Root, end.Value) : null;
            if (Errors.Count > before || book is null || providers is null || demand is null || start is null || end is null)
            {
                return null;
            }

            return new Scenario
            {
                Name = name,
                Description = description,
                Source = file,
                Start = start.Value,
                End = end.Value,
                Seed = seed,
                Book = window is { } w ? Scenario.WithResponseWindow(book, w) : book,
                AgreementFiles = agreementFiles,
                Providers = providers,
                Policy = providersFile!.Policy,
                ResponseWindow = window,
                Demand = demand,
                Financials = financials,
            };
        }

        private ContractBook? ReadAgreements(Layer layer, List<string> files)
        {
            var items = layer.Root.Items("agreements", "the agreement files, relative to the scenario, e.g. [../agreements/microsoft-openai-2025-10.yaml]", "[file.yaml]");
            if (items is null)
            {
                return null;
            }

            var book = ContractBook.Empty;
            var ids = new Dictionary<AgreementId, string>();
            var ok = true;
            foreach (var (node, path) in items)
            {
                if (node is not YamlScalarNode { Value: { Length: > 0 } relative })
                {
                    layer.Root.Diagnostics.Add(path, $"must be a file name, not {YamlMap.Describe(node)}", node);
                    ok = false;
                    continue;
                }

                var resolved = ScenarioPaths.Resolve(layer.File, relative.Trim());
                if (!_agreements.TryGetValue(resolved, out var agreement))
                {
                    var text = readFile(resolved);
                    if (text is null)
                    {
                        layer.Root.Diagnostics.Add(path, $"'{relative}' was not found (looked for {resolved}); paths are relative to the scenario file", node);
                        ok = false;
                        continue;
                    }

                    var parsed = DefinitionReader.ReadAgreement(text, resolved);
                    _external.AddRange(parsed.Errors);
                    agreement = parsed.Value;
                    _agreements[resolved] = agreement;
                }

                if (agreement is null)
                {
                    ok = false;
                    continue;
                }

                if (ids.TryGetValue(agreement.Id, out var other))
                {
                    layer.Root.Diagnostics.Add(path, $"agreement '{agreement.Id}' is already given by {other}; an amendment is a new version in the same file, so name each agreement once", node);
                    ok = false;
                    continue;
                }

                ids[agreement.Id] = path;
                files.Add(resolved);
                book = book.WithAgreement(agreement);
            }

            return ok ? book : null;
        }

        private ProvidersFile? ReadProviders(Layer layer, string relative)
        {
            var resolved = ScenarioPaths.Resolve(layer.File, relative);
            if (_providers.TryGetValue(resolved, out var cached))
            {
                return cached;
            }

            var text = readFile(resolved);
            if (text is null)
            {
                layer.Root.Error("providers", $"'{relative}' was not found (looked for {resolved}); paths are relative to the scenario file");
                return null;
            }

            var parsed = DefinitionReader.ReadProviders(text, resolved);
            _external.AddRange(parsed.Errors);
            _providers[resolved] = parsed.Value;
            return parsed.Value;
        }

        private static void AddCapacity(YamlMap root, List<ProviderDefinition> providers)
        {
            var diagnostics = root.Diagnostics;
            foreach (var (node, path) in root.Items("capacity", null, "- { provider, accelerator, region, gpus, from }") ?? [])
            {
                if (YamlMap.Of(diagnostics, node, path, "provider, accelerator, region, gpus, from and optionally ramp-until") is not { } entry)
                {
                    continue;
                }

                var before = diagnostics.Count;
                entry.AllowOnly(CapacityKeys, "a capacity change");
                var providerId = entry.Text("provider", "the provider whose capacity changes, e.g. stargate");
                var accelerator = entry.Text("accelerator", "the accelerator, e.g. GB200");
                var region = entry.Text("region", "the region (a new one is added to the provider's regions), e.g. abilene");
                var gpus = entry.Integer("gpus", "the GPUs (dies) added from 'from' (negative to remove)", int.MinValue + 1, "a number of GPUs");
                var from = entry.Instant("from", "the instant the capacity starts to arrive, e.g. 2026-06-01");
                var rampUntil = entry.Instant("ramp-until");
                if (gpus == 0)
                {
                    entry.Error("gpus", "is zero; a capacity change adds (or, negative, removes) at least one GPU");
                }

                if (from is { } f && rampUntil is { } r && r <= f)
                {
                    entry.Error("ramp-until", $"{Format(r)} is not after from {Format(f)}; the capacity grows from 'from' until 'ramp-until'");
                }

                var index = providerId is null ? -1 : providers.FindIndex(p => p.Id.Value == providerId);
                if (providerId is not null && index < 0)
                {
                    entry.Error("provider", $"unknown provider '{providerId}'{Spelling.Hint(providerId, providers.Select(p => p.Id.Value), "the providers file has")}");
                }

                if (diagnostics.Count > before)
                {
                    continue;
                }

                var provider = providers[index];
                providers[index] = provider with
                {
                    Regions = provider.Regions.Count == 0 || provider.Regions.Contains(region!, StringComparer.Ordinal) ? provider.Regions : [.. provider.Regions, region!],
                    Capacity = [.. provider.Capacity, new CapacityChange(accelerator!, region!, from!.Value, gpus!.Value, rampUntil)],
                };
            }
        }

        private static void OverrideAnswers(YamlMap root, List<ProviderDefinition> providers)
        {
            if (root.Map("answers", "provider ids, each with latency, reliability, decline-classes, accept-partial or reservation-failure-rate") is not { } answers)
            {
                return;
            }

            foreach (var (key, value) in answers.Node.Children)
            {
                var id = (key as YamlScalarNode)?.Value ?? string.Empty;
                var path = answers.At(id);
                var index = providers.FindIndex(p => p.Id.Value == id);
                if (index < 0)
                {
                    answers.Diagnostics.Add(path, $"unknown provider '{id}'{Spelling.Hint(id, providers.Select(p => p.Id.Value), "the providers file has")}", key);
                    continue;
                }

                if (YamlMap.Of(answers.Diagnostics, value, path, string.Join(", ", AnswerKeys)) is not { } map)
                {
                    continue;
                }

                var before = map.Diagnostics.Count;
                map.AllowOnly(AnswerKeys, "answers");
                var policy = providers[index].Policy;
                var (min, max) = (policy.MinLatency, policy.MaxLatency);
                if (map.ValueNode("latency") is YamlMappingNode)
                {
                    var latency = map.Map("latency", "min and max, ISO 8601 durations")!;
                    latency.AllowOnly(LatencyKeys, "latency");
                    var low = latency.Duration("min", "the shortest time to answer, e.g. PT5M", positive: false);
                    var high = latency.Duration("max", "the longest time to answer, e.g. P3D", positive: false);
                    if (low is { } l && high is { } hi)
                    {
                        if (hi < l)
                        {
                            latency.Error("max", $"{IsoDuration.Format(hi)} is shorter than min {IsoDuration.Format(l)}; max must be at least min");
                        }

                        (min, max) = (l, hi);
                    }
                }
                else if (map.Duration("latency", positive: false) is { } fixedLatency)
                {
                    (min, max) = (fixedLatency, fixedLatency);
                }

                var reliability = map.Rate("reliability");
                var declines = map.Names("decline-classes");
                var acceptPartial = map.Flag("accept-partial");
                var failures = map.Rate("reservation-failure-rate");
                if (map.Diagnostics.Count > before)
                {
                    continue;
                }

                providers[index] = providers[index] with
                {
                    Policy = new AnswerPolicy(
                        min,
                        max,
                        reliability is { } r ? (double)r : policy.Reliability,
                        declines ?? policy.DeclineClasses,
                        acceptPartial ?? policy.AcceptPartial,
                        failures is { } fr ? (double)fr : policy.ReservationFailureRate),
                };
            }
        }

        private List<DemandStream>? ReadDemand(Layer layer, DateTimeOffset horizonStart)
        {
            var diagnostics = layer.Root.Diagnostics;
            var items = layer.Root.Items("demand", "at least one demand stream (id, customer, workload-class, accelerator, arrivals, size, duration, needed-within, max-price)");
            if (items is null)
            {
                return null;
            }

            var before = diagnostics.Count + _external.Count;
            var streams = new List<DemandStream>();
            var ids = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (node, path) in items)
            {
                if (YamlMap.Of(diagnostics, node, path, "id, customer, workload-class, accelerator, arrivals, size, duration, needed-within and max-price") is not { } map)
                {
                    continue;
                }

                var id = map.Text("id", "the stream's id, a prefix of its request ids, e.g. training");
                if (id is not null && !ids.TryAdd(id, path))
                {
                    map.Error("id", $"duplicate demand id '{id}' (also {ids[id]}); request ids start with it, so give each stream its own");
                }

                DemandStream? stream = map.Has("requests") ? ReadScheduled(map, layer.File, id) : ReadGenerated(map, id);
                if (stream is not null)
                {
                    streams.Add(stream);
                }
            }

            _ = horizonStart;
            return diagnostics.Count + _external.Count > before ? null : streams;
        }

        private ScheduledDemand? ReadScheduled(YamlMap map, string file, string? id)
        {
            map.AllowOnly(["id", "requests"], "a demand stream with a requests file (only id and requests)");
            var relative = map.Text("requests", "the requests file, relative to the scenario");
            if (relative is null || id is null)
            {
                return null;
            }

            var resolved = ScenarioPaths.Resolve(file, relative);
            if (!_requests.TryGetValue(resolved, out var requests))
            {
                var text = readFile(resolved);
                if (text is null)
                {
                    map.Error("requests", $"'{relative}' was not found (looked for {resolved}); paths are relative to the scenario file");
                    return null;
                }

                var parsed = DefinitionReader.ReadRequests(text, resolved);
                _external.AddRange(parsed.Errors);
                requests = parsed.Value;
                _requests[resolved] = requests;
            }

            return requests is null ? null : new ScheduledDemand(id, requests);
        }

        private static GeneratedDemand? ReadGenerated(YamlMap map, string? id)
        {
            var diagnostics = map.Diagnostics;
            var before = diagnostics.Count;
            map.AllowOnly(DemandKeys, "a demand stream");
            var customer = map.Text("customer", "the customer whose requests these are, e.g. openai");
            var workloadClass = map.Text("workload-class", "the workload class: training, inference, api, research or a class the agreement names");
            WeightedChoice<string>? accelerators = null;
            if (map.Has("accelerator") && map.Has("accelerators"))
            {
                map.Error("accelerators", "and accelerator are both given; give one accelerator, or weighted accelerators such as { H100: 3, GB200: 1 }");
            }
            else if (map.Has("accelerators"))
            {
                accelerators = Choices(map, "accelerators", "weights per accelerator, e.g. { H100: 3, GB200: 1 }", text => (text.Length > 0, text));
            }
            else if (map.Text("accelerator", "the accelerator, e.g. H100 (or accelerators: { H100: 3, GB200: 1 })") is { } single)
            {
                accelerators = WeightedChoice<string>.Always(single);
            }

            var regions = map.Names("regions") ?? [];
            var arrivals = ReadArrivals(map);
            var bursts = ReadBursts(map);
            var size = ReadSize(map);
            var duration = ReadDuration(map);
            var lead = map.Duration("lead-time", positive: false) ?? TimeSpan.Zero;
            var neededWithin = map.Duration("needed-within", "how long after submission an answer is needed, e.g. P7D");
            var maxPrice = map.Money("max-price", "the most the customer pays per GPU-hour, e.g. '12.29 USD'");
            var allOrNothing = map.Flag("all-or-nothing") ?? false;
            var from = map.Instant("from");
            var until = map.Instant("until");
            if (from is { } f && until is { } u && u <= f)
            {
                map.Error("until", $"{Format(u)} is not after from {Format(f)}; the stream runs from 'from' until 'until' (exclusive)");
            }

            if (diagnostics.Count > before || id is null)
            {
                return null;
            }

            return new GeneratedDemand(id, customer!, workloadClass!, accelerators!, regions, arrivals!, size!, duration!, lead, neededWithin!.Value,
                new PricePerGpuHour(maxPrice!.Value), allOrNothing, from, until, bursts);
        }

        private static ArrivalProcess? ReadArrivals(YamlMap stream)
        {
            if (stream.Map("arrivals", "per-day (with growth and growth-per-year) or every", "the arrivals: { per-day: 0.5, growth: exponential, growth-per-year: 60% } or { every: P7D }") is not { } map)
            {
                return null;
            }

            map.AllowOnly(ArrivalKeys, "arrivals");
            if (map.Has("every"))
            {
                foreach (var key in PoissonKeys.Where(map.Has))
                {
                    map.Error(key, "does not go with every (fixed arrivals); remove it, or remove every for Poisson arrivals");
                }

                return map.Duration("every") is { } every ? new PeriodicArrivals(every) : null;
            }

            var perDay = Number(map, "per-day", "the mean requests per day at the stream's start, e.g. 0.5 (or every: P7D for fixed arrivals)", 0, allowZero: false);
            var growth = map.Choice("growth", ["none", "linear", "exponential"], "growth") ?? "none";
            var growthPerYear = Percent(map, "growth-per-year", null, -0.99, 100) ?? 0;
            if (growth != "none" && !map.Has("growth-per-year"))
            {
                map.Error("growth-per-year", $"is missing; a {growth} growth needs a rate per year, e.g. growth-per-year: 50%");
            }
            else if (growth == "none" && map.Has("growth-per-year"))
            {
                map.Error("growth-per-year", "applies only with growth: linear or exponential; add growth or remove it");
            }

            return perDay is null
                ? null
                : new PoissonArrivals(perDay.Value, growth switch { "linear" => Growth.Linear, "exponential" => Growth.Exponential, _ => Growth.None }, growthPerYear);
        }

        private static IReadOnlyList<Burst>? ReadBursts(YamlMap stream)
        {
            var items = stream.Items("bursts", null, "- { from, until, per-day }");
            if (items is null)
            {
                return null;
            }

            var bursts = new List<Burst>();
            foreach (var (node, path) in items)
            {
                if (YamlMap.Of(stream.Diagnostics, node, path, "from, until and per-day") is not { } map)
                {
                    continue;
                }

                map.AllowOnly(BurstKeys, "a burst");
                var from = map.Instant("from", "the burst's first instant, e.g. 2026-03-01");
                var until = map.Instant("until", "the burst's end (exclusive), e.g. 2026-03-15");
                var perDay = Number(map, "per-day", "the extra requests per day during the burst, e.g. 5", 0, allowZero: false);
                if (from is { } f && until is { } u && u <= f)
                {
                    map.Error("until", $"{Format(u)} is not after from {Format(f)}");
                }
                else if (from is not null && until is not null && perDay is not null)
                {
                    bursts.Add(new Burst(from.Value, until.Value, perDay.Value));
                }
            }

            return bursts;
        }

        private static SizeDistribution? ReadSize(YamlMap stream)
        {
            if (stream.ValueNode("size") is YamlScalarNode)
            {
                return stream.Integer("size", null, 1, "a number of GPUs") is { } fixedSize
                    ? new ChoiceSize(WeightedChoice<int>.Always(fixedSize))
                    : null;
            }

            if (stream.Map("size", "choices or log-normal, with optional growth-per-year, multiple-of, min and max", "the request sizes: a number of GPUs, { choices: { 1024: 50%, 8192: 50% } } or { log-normal: { median: 2048, sigma: 1.0 } }") is not { } map)
            {
                return null;
            }

            var before = map.Diagnostics.Count;
            map.AllowOnly(SizeKeys, "size");
            var growth = Percent(map, "growth-per-year", null, -0.99, 100) ?? 0;
            var multiple = map.Integer("multiple-of", null, 1, "a number of GPUs") ?? 8;
            var min = map.Integer("min", null, 1, "a number of GPUs");
            var max = map.Integer("max", null, 1, "a number of GPUs") ?? int.MaxValue;
            if (min is { } lo && lo > max)
            {
                map.Error("max", $"{max.ToString(CultureInfo.InvariantCulture)} is below min {lo.ToString(CultureInfo.InvariantCulture)}");
            }

            SizeDistribution? size = null;
            if (map.Has("choices") == map.Has("log-normal"))
            {
                map.Error(map.Has("choices") ? "log-normal" : "choices", "give exactly one of choices ({ 1024: 50%, 8192: 50% }) and log-normal ({ median: 2048, sigma: 1.0 })");
            }
            else if (map.Has("choices"))
            {
                var choices = Choices(map, "choices", "weights per size in GPUs, e.g. { 1024: 50%, 8192: 50% }", text =>
                    (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var gpus) && gpus > 0, gpus), "a positive number of GPUs");
                if (choices is not null)
                {
                    size = new ChoiceSize(choices, growth, multiple, min ?? 1, max);
                }
            }
            else if (map.Map("log-normal", "median and sigma") is { } logNormal)
            {
                logNormal.AllowOnly(LogNormalKeys, "log-normal");
                var median = Number(logNormal, "median", "the median size in GPUs, e.g. 2048", 0, allowZero: false);
                var sigma = Number(logNormal, "sigma", "the spread: the standard deviation of the size's logarithm, e.g. 1.0", 0, allowZero: true);
                if (median is not null && sigma is not null)
                {
                    size = new LogNormalSize(median.Value, sigma.Value, growth, multiple, min ?? multiple, max);
                }
            }

            return map.Diagnostics.Count > before ? null : size;
        }

        private static WeightedChoice<int>? ReadDuration(YamlMap stream)
        {
            if (stream.ValueNode("duration") is YamlMappingNode)
            {
                var map = stream.Map("duration", "choices")!;
                map.AllowOnly(DurationKeys, "duration");
                return Choices(map, "choices", "weights per duration, e.g. { P7D: 2, P30D: 1 }", text =>
                    (IsoDuration.TryParse(text, out var value, out _) && value > TimeSpan.Zero && value.Ticks % TimeSpan.TicksPerHour == 0, (int)value.TotalHours),
                    "a positive ISO 8601 duration in whole hours (e.g. P7D, PT12H)");
            }

            var duration = stream.Duration("duration", "how long the GPUs are needed, a whole number of hours as an ISO 8601 duration, e.g. P30D (or { choices: { P7D: 2, P30D: 1 } })");
            if (duration is not { } d)
            {
                return null;
            }

            if (d.Ticks % TimeSpan.TicksPerHour != 0)
            {
                stream.Error("duration", $"{IsoDuration.Format(d)} is not a whole number of hours; capacity is reserved by the hour");
                return null;
            }

            return WeightedChoice<int>.Always((int)d.TotalHours);
        }

        private static FinancialTrajectory? ReadFinancials(YamlMap root, DateTimeOffset end)
        {
            if (root.Map("financials", string.Join(", ", FinancialKeys)) is not { } map)
            {
                return null;
            }

            var before = map.Diagnostics.Count;
            map.AllowOnly(FinancialKeys, "financials");
            var customer = map.Text("customer", "the customer whose ledger gets the reports, e.g. openai");
            var revenue = map.Money("quarterly-revenue", "the revenue of the first full quarter, e.g. '3000000000 USD'");
            var growth = RevenueGrowth(map);
            var marginStart = Percent(map, "margin-start", "the profit margin (profit / revenue) at the horizon's start, e.g. -100%", -100, 1);
            var marginEnd = Percent(map, "margin-end", null, -100, 1);
            var marginEndAt = map.Instant("margin-end-at");
            var noise = Percent(map, "revenue-noise", null, 0, 10) ?? 0;
            if (map.Diagnostics.Count > before)
            {
                return null;
            }

            return new FinancialTrajectory(customer!, revenue!.Value, growth!, marginStart!.Value, marginEnd ?? marginStart!.Value, marginEndAt ?? end, noise);
        }

        /// <summary>One rate for the whole horizon (60%), or rates from given dates on ({ 2025-01-01: 150%, 2026-01-01: 80% }).</summary>
        private static IReadOnlyList<GrowthStep>? RevenueGrowth(YamlMap map)
        {
            const string Key = "revenue-growth-per-year";
            var node = map.ValueNode(Key);
            if (node is not YamlMappingNode mapping)
            {
                var single = Percent(map, Key, null, -0.99, 100);
                return single is null && node is not null ? null : [new GrowthStep(DateTimeOffset.MinValue, single ?? 0)];
            }

            var steps = new List<GrowthStep>();
            foreach (var (k, v) in mapping.Children)
            {
                var text = (k as YamlScalarNode)?.Value?.Trim() ?? string.Empty;
                var path = $"{map.At(Key)}.{text}";
                if (!IsoInstant.TryParse(text, out var from, out var error))
                {
                    map.Diagnostics.Add(path, error, k);
                    continue;
                }

                if (steps.Count > 0 && from <= steps[^1].From)
                {
                    map.Diagnostics.Add(path, $"{Format(from)} is not after {Format(steps[^1].From)}; list the steps in date order", k);
                    continue;
                }

                var rate = v is YamlScalarNode { Value: { } r } ? ParsePercentOrNumber(r.Trim()) : null;
                if (rate is not { } value || value < -0.99 || value > 100)
                {
                    map.Diagnostics.Add(path, $"{YamlMap.Describe(v)} is not a growth rate; write a percentage such as 80%", v);
                    continue;
                }

                steps.Add(new GrowthStep(from, value));
            }

            if (steps.Count == 0)
            {
                map.Error(Key, "is empty; give a rate (60%) or dated rates ({ 2025-01-01: 150%, 2026-01-01: 80% })");
                return null;
            }

            return steps;
        }

        /// <summary>A mapping of values to weights (numbers or percentages); null after reporting.</summary>
        private static WeightedChoice<T>? Choices<T>(YamlMap map, string key, string missing, Func<string, (bool Ok, T Value)> parse, string? what = null)
        {
            var node = map.ValueNode(key);
            if (node is not YamlMappingNode mapping)
            {
                map.Diagnostics.Add(map.At(key), node is null ? $"is missing; add {missing}" : $"must be a mapping of {missing}, not {YamlMap.Describe(node)}", node ?? map.Node);
                return null;
            }

            var options = new List<(T, double)>();
            var ok = true;
            foreach (var (k, v) in mapping.Children)
            {
                var name = (k as YamlScalarNode)?.Value?.Trim() ?? string.Empty;
                var path = $"{map.At(key)}.{name}";
                var (parsed, value) = parse(name);
                if (!parsed)
                {
                    map.Diagnostics.Add(path, $"'{name}' is not {what ?? "a name"}", k);
                    ok = false;
                    continue;
                }

                var weight = v is YamlScalarNode { Value: { } text } ? ParsePercentOrNumber(text.Trim()) : null;
                if (weight is not { } w || !(w > 0))
                {
                    map.Diagnostics.Add(path, $"{YamlMap.Describe(v)} is not a positive weight; write a number (3) or a percentage (40%)", v);
                    ok = false;
                    continue;
                }

                options.Add((value, w));
            }

            if (ok && options.Count == 0)
            {
                map.Diagnostics.Add(map.At(key), $"is empty; add {missing}", node);
                return null;
            }

            return ok ? new WeightedChoice<T>(options) : null;
        }

        private static double? Number(YamlMap map, string key, string? missing, double min, bool allowZero)
        {
            if (map.Text(key, missing) is not { } text)
            {
                return null;
            }

            if (!double.TryParse(text, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var value)
                || double.IsNaN(value) || double.IsInfinity(value))
            {
                map.Error(key, $"'{text}' is not a number");
                return null;
            }

            if (value < min || (!allowZero && value == 0))
            {
                map.Error(key, $"{text} must be {(allowZero ? "zero or more" : "above zero")}");
                return null;
            }

            return value;
        }

        /// <summary>A fraction written as a decimal (0.6) or a percentage (60%, -100%), within [min, max].</summary>
        private static double? Percent(YamlMap map, string key, string? missing, double min, double max)
        {
            if (map.Text(key, missing) is not { } text)
            {
                return null;
            }

            if (ParsePercentOrNumber(text) is not { } value)
            {
                map.Error(key, $"'{text}' is not a rate; write a percentage (60%, -100%) or a decimal (0.6)");
                return null;
            }

            if (value < min || value > max)
            {
                map.Error(key, $"{text} is outside [{(min * 100).ToString("0.##", CultureInfo.InvariantCulture)}%, {(max * 100).ToString("0.##", CultureInfo.InvariantCulture)}%]");
                return null;
            }

            return value;
        }

        private static double? ParsePercentOrNumber(string text)
        {
            var percent = text.EndsWith('%');
            var number = percent ? text[..^1].TrimEnd() : text;
            return double.TryParse(number, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
                ? percent ? value / 100.0 : value
                : null;
        }

        /// <summary>A calendar date (midnight UTC): quarters and months are cut at midnight, so the horizon is in whole days.</summary>
        private static DateTimeOffset? Date(YamlMap map, string key, string missing)
        {
            if (map.Instant(key, missing) is not { } at)
            {
                return null;
            }

            if (at.UtcDateTime.TimeOfDay != TimeSpan.Zero)
            {
                map.Error(key, $"{Format(at)} is not midnight UTC; give a date such as {at.UtcDateTime:yyyy-MM-dd}");
                return null;
            }

            return at;
        }

        private static string Format(DateTimeOffset at) => IsoInstant.Format(at);
    }
}
