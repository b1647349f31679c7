using System.Buffers;
using System.Text;
using System.Text.Json;

namespace ComputeBroker.Storage;

/// <summary>The checks every store runs on an append before opening a transaction, so both behave alike.</summary>
internal static class AppendPreparation
{
    /// <summary>Validates <paramref name="appends"/> and returns them with recorded-at normalized.</summary>
    /// <exception cref="ArgumentException">The append is malformed; the message names the stream and event.</exception>
    public static IReadOnlyList<StreamAppend> Prepare(IReadOnlyList<StreamAppend> appends)
    {
        ArgumentNullException.ThrowIfNull(appends);
        if (appends.Count == 0)
        {
            throw new ArgumentException("an append names at least one stream", nameof(appends));
        }

        var seen = new HashSet<StreamId>();
        var prepared = new StreamAppend[appends.Count];
        for (var i = 0; i < appends.Count; i++)
        {
            var append = appends[i] ?? throw new ArgumentException($"appends[{i}] is null", nameof(appends));
            if (append.Stream.Value is null)
            {
                throw new ArgumentException($"appends[{i}] has no stream id", nameof(appends));
            }

            if (!seen.Add(append.Stream))
            {
                throw new ArgumentException($"stream '{append.Stream}' appears twice in one append; put all its events in one StreamAppend", nameof(appends));
            }

            if (append.ExpectedVersion < StreamAppend.NoStream)
            {
                throw new ArgumentException($"stream '{append.Stream}': expected version {append.ExpectedVersion} is invalid; use -1 for a new stream or the version last read", nameof(appends));
            }

            // An append without events would only check a version, and that check would not hold
            // against a concurrent writer once the transaction ends; callers must append something.
            if (append.Events is null || append.Events.Count == 0)
            {
                throw new ArgumentException($"stream '{append.Stream}': an append carries at least one event", nameof(appends));
            }

            var events = new EventData[append.Events.Count];
            for (var j = 0; j < events.Length; j++)
            {
                var e = append.Events[j] ?? throw new ArgumentException($"stream '{append.Stream}': event {j} is null", nameof(appends));
                if (string.IsNullOrWhiteSpace(e.Type))
                {
                    throw new ArgumentException($"stream '{append.Stream}': event {j} has no type; give it one such as 'offer.made'", nameof(appends));
                }

                if (!IsJson(e.Json, out var problem))
                {
                    throw new ArgumentException($"stream '{append.Stream}': event {j} ({e.Type}) is not valid JSON: {problem}", nameof(appends));
                }

                events[j] = e with { RecordedAt = EventHash.NormalizeRecordedAt(e.RecordedAt) };
            }

            prepared[i] = append with { Events = events };
        }

        return prepared;
    }

    private static bool IsJson(string? json, out string problem)
    {
        if (string.IsNullOrEmpty(json))
        {
            problem = "it is empty";
            return false;
        }

        // Every appended event passes here: read it from a pooled buffer rather than allocate its UTF-8 bytes.
        var bytes = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(json.Length));
        try
        {
            var reader = new Utf8JsonReader(bytes.AsSpan(0, Encoding.UTF8.GetBytes(json, bytes)));
            while (reader.Read())
            {
            }

            problem = string.Empty;
            return true;
        }
        catch (JsonException e)
        {
            problem = e.Message;
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }
}
