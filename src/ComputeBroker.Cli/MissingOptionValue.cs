using System.Reflection;
using Spectre.Console.Cli;

namespace ComputeBroker.Cli;

/// <summary>
/// Finds an option that takes a value but was given none: the last argument, or one followed by another option. The
/// parser then reads its own name for the default command, <c>__default_command</c>, as the value, so <c>broker serve
/// --db</c> created a database file of that name and <c>--runs</c> was reported as "'__default_command' is not a whole
/// number". Checked before parsing, against the options of every command settings type in an assembly, which is exact
/// as long as a name is a flag in every command or takes a value in every command (<see cref="Options"/> insists).
/// </summary>
/// <remarks>Shared, as a linked source file, by the benchmark commands in bench/, which parse with the same library.</remarks>
internal static class MissingOptionValue
{
    /// <summary>The error line for the first option of <paramref name="args"/> left without its value, or null when there is none.</summary>
    public static string? Find(IReadOnlyList<string> args, Assembly commands)
    {
        var options = Options(commands);
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] == "--")
            {
                break; // what follows is not options
            }

            if (options.TryGetValue(args[i], out var valueName) && valueName is not null
                && (i + 1 == args.Count || options.ContainsKey(args[i + 1])))
            {
                return $"{args[i]} needs a value: give it as {args[i]} <{valueName}> (--help lists what it takes)";
            }
        }

        return null;
    }

    /// <summary>
    /// Every option name of every settings type in <paramref name="commands"/> ("--db", "-n"), with the name of the value it
    /// requires, or null for a flag or an option whose value may be left out. The help option is a flag.
    /// </summary>
    /// <exception cref="InvalidOperationException">A name is a flag in one command and takes a value in another: a programming error.</exception>
    public static IReadOnlyDictionary<string, string?> Options(Assembly commands)
    {
        var options = new Dictionary<string, string?>(StringComparer.Ordinal) { ["--help"] = null, ["-h"] = null };
        foreach (var type in commands.GetTypes().Where(t => typeof(CommandSettings).IsAssignableFrom(t)))
        {
            foreach (var option in type.GetProperties().Select(p => p.GetCustomAttribute<CommandOptionAttribute>()).OfType<CommandOptionAttribute>())
            {
                var valueName = option.ValueName is { } name && !option.ValueIsOptional ? name : null;
                foreach (var spelled in option.LongNames.Select(n => "--" + n).Concat(option.ShortNames.Select(n => "-" + n)))
                {
                    if (options.TryGetValue(spelled, out var known) && (known is null) != (valueName is null))
                    {
                        throw new InvalidOperationException($"{spelled} is a flag in one command and takes a value in another ({type.Name}); give one of them another name");
                    }

                    options[spelled] = valueName;
                }
            }
        }

        return options;
    }
}
