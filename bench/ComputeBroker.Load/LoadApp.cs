using ComputeBroker.Cli;
using Spectre.Console.Cli;

namespace ComputeBroker.Load;

/// <summary>The load command's command line: one command, its options checked before anything is measured.</summary>
internal static class LoadApp
{
    /// <summary>The options were wrong: nothing was measured.</summary>
    public const int UserError = 1;

    /// <summary>A measurement failed (a database that could not start, a workflow refused): not the options.</summary>
    public const int Failure = 2;

    public static Task<int> RunAsync(string[] args, TextWriter? error = null)
    {
        error ??= Console.Error;
        if (MissingOptionValue.Find(args, typeof(LoadApp).Assembly) is { } missing)
        {
            error.WriteLine($"error: {missing}");
            return Task.FromResult(UserError);
        }

        var app = new CommandApp<LoadCommand>();
        app.Configure(config =>
        {
            config.SetApplicationName("ComputeBroker.Load");
            config.Settings.StrictParsing = true;
            config.SetExceptionHandler((ex, _) =>
            {
                if (ex is CommandParseException or CommandRuntimeException)
                {
                    error.WriteLine($"error: {ex.Message}");
                    return UserError;
                }

                // A failed measurement is reported whole: it is the environment or a bug, and where it happened matters.
                error.WriteLine($"load failed: {ex}");
                return Failure;
            });
        });
        return app.RunAsync(args);
    }
}
