using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComputeBroker.Storage.Integrity;

/// <summary>One stream's head as a digest records it.</summary>
public sealed record DigestHead(string Stream, long Version, string Hash);

/// <summary>
/// A digest of the event store, written to a file outside the database (another disk, a WORM bucket, a
/// signed email to the auditor) so that whoever can rewrite the database cannot also rewrite it.
/// </summary>
/// <remarks>
/// <see cref="Root"/> is <see cref="Digest.Root"/> over the stream heads at <see cref="GlobalPosition"/>; a
/// later verification recomputes the root as of that same position, so events appended after the
/// digest do not disturb it. Immutable.
/// </remarks>
public sealed record DigestDocument
{
    /// <summary>The format of the document, for readers in other languages.</summary>
    public const string CurrentFormat = "computebroker-digest/1";

    public const string CurrentAlgorithm = "sha256-rfc6962-merkle-over-stream-heads";

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string Format { get; init; } = CurrentFormat;

    public string Algorithm { get; init; } = CurrentAlgorithm;

    /// <summary>The Merkle root, 64 lowercase hex digits.</summary>
    public required string Root { get; init; }

    public required long StreamCount { get; init; }

    public required long EventCount { get; init; }

    /// <summary>The last global position the digest covers.</summary>
    public required long GlobalPosition { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>Every stream's head, when taken with <see cref="DigestDetail.WithStreamHeads"/>; null otherwise.</summary>
    public IReadOnlyList<DigestHead>? Heads { get; init; }

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Reads a document; throws <see cref="FormatException"/> saying what is wrong with it.</summary>
    public static DigestDocument FromJson(string json, string source = "digest")
    {
        DigestDocument? document;
        try
        {
            document = JsonSerializer.Deserialize<DigestDocument>(json, JsonOptions);
        }
        catch (JsonException e)
        {
            throw new FormatException($"{source}: not a digest document ({e.Message})", e);
        }

        if (document is null)
        {
            throw new FormatException($"{source}: empty digest document");
        }

        if (document.Format != CurrentFormat || document.Algorithm != CurrentAlgorithm)
        {
            throw new FormatException($"{source}: format '{document.Format}' / algorithm '{document.Algorithm}' is not {CurrentFormat} / {CurrentAlgorithm}; it was written by another tool or version");
        }

        if (!EventHash.TryParse(document.Root, stackalloc byte[EventHash.Size]))
        {
            throw new FormatException($"{source}: root '{document.Root}' is not 64 hex digits");
        }

        return document;
    }

    /// <summary>Writes the document to <paramref name="path"/> atomically: a crash leaves the old file or the new one, never half of one.</summary>
    public async Task WriteAsync(string path, CancellationToken cancellationToken)
    {
        var full = Path.GetFullPath(path);
        var temporary = full + ".tmp";
        await using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous))
        {
            await using (var writer = new StreamWriter(file, leaveOpen: true))
            {
                await writer.WriteAsync((ToJson() + "\n").AsMemory(), cancellationToken);
            }

            file.Flush(flushToDisk: true);
        }

        File.Move(temporary, full, overwrite: true);
    }

    public static async Task<DigestDocument> ReadAsync(string path, CancellationToken cancellationToken) =>
        FromJson(await File.ReadAllTextAsync(path, cancellationToken), path);
}
