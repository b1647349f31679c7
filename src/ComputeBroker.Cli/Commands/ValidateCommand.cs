using System.ComponentModel;
using System.Text.Json;
using ComputeBroker.Definitions;
using ComputeBroker.Serialization;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ComputeBroker.Cli.Commands;

public sealed class ValidateSettings : CommandSettings
{
    [CommandArgument(0, "<FILE>")]
    [Description("Agreement, providers, requests or scenario files (the top-level 'kind:' says which).")]
    public string[] Files { get; init; } = [];

    [CommandOption("--json")]
    [Description("Print the findings as JSON.")]
    public bool Json { get; init; }
}

/// <summary><c>broker validate FILE...</c>: every problem in every file, with its path and fix. Exit 1 if any.</summary>
public sealed partial class ValidateCommand : Command<ValidateSettings>
{
    [System.Text.RegularExpressions.GeneratedRegex(@"^kind:\s*scenario\s*(#.*)?$", System.Text.RegularExpressions.RegexOptions.Multiline)]
    private static partial System.Text.RegularExpressions.Regex ScenarioKind();

    public override int Execute(CommandContext context, ValidateSettings settings, CancellationToken cancellationToken)
    {
        var results = new List<(string File, string? Kind, IReadOnlyList<DefinitionError> Errors)>();
        foreach (var file in settings.Files)
        {
            if (!File.Exists(file))
            {
                results.Add((file, null, [new DefinitionError(file, "(file)", InputFiles.WhyNotAFile(file))]));
                continue;
            }

            var text = File.ReadAllText(file);
            if (ScenarioKind().IsMatch(text))
            {
                // Scenarios are read by the simulator, with the agreement and providers files they name.
                results.Add((file, "scenario", Simulation.Scenarios.ScenarioReader.ReadFile(file).Errors));
                continue;
            }

            results.Add((file, DefinitionReader.DetectKind(text)?.ToString().ToLowerInvariant(), DefinitionReader.Validate(text, file)));
        }

        if (settings.Json)
        {
            var document = results.Select(r => new
            {
                file = r.File,
                kind = r.Kind,
                valid = r.Errors.Count == 0,
                errors = r.Errors.Select(e => new { path = e.Path, message = e.Message }),
            });
            Console.Out.WriteLine(JsonSerializer.Serialize(document, CliJson.Indented));
        }
        else
        {
            foreach (var (file, kind, errors) in results)
            {
                if (errors.Count == 0)
                {
                    AnsiConsole.MarkupLineInterpolated($"[green]ok[/]    {file} ({kind})");
                    continue;
                }

                AnsiConsole.MarkupLineInterpolated($"[red]error[/] {file}: {errors.Count} problem(s)");
                foreach (var error in errors)
                {
                    AnsiConsole.MarkupLineInterpolated($"      {error}");
                }
            }
        }

        return results.Any(r => r.Errors.Count > 0) ? ExitCodes.UserError : ExitCodes.Ok;
    }
}
