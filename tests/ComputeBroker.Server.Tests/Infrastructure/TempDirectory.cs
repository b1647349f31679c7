namespace ComputeBroker.Server.Tests.Infrastructure;

/// <summary>A directory of its own under the temp folder, deleted on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory(string prefix)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"cb-{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 16)]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open (a killed child's WAL): the temp folder is cleaned by the OS.
        }
    }
}
