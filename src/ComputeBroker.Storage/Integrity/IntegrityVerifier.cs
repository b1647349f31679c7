namespace ComputeBroker.Storage.Integrity;

/// <summary>
/// Audits an event store: recomputes every event's hash, walks every stream's chain, and compares
/// the result with a digest kept outside the database. Each problem becomes a finding that names the
/// stream, version and global position, with the most specific kind the evidence supports.
/// </summary>
/// <remarks>
/// What the chain alone shows: a changed event (<c>modified</c>), a rewritten-and-rehashed event
/// (<c>chain-broken</c> at its successor), a deleted event inside a stream (<c>deleted</c>), a forged
/// event that does not fit (<c>inserted</c>), swapped versions (<c>reordered</c>). What only a digest
/// shows: a deleted tail event or a removed stream, whose remaining chain is intact. What neither
/// shows: events appended after the digest with correctly recomputed hashes; the hashes are unkeyed,
/// so take digests often and keep them where the database's writers cannot reach.
/// Reads one stream at a time into memory. Thread-safe: no shared state.
/// </remarks>
public static class IntegrityVerifier
{
    public static async Task<IntegrityReport> VerifyAsync(IEventStore store, DigestDocument? expected, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);

        // Verify the store as of one position: appends that commit while we read lie above it and are ignored.
        var snapshot = await store.HeadAsync(cancellationToken);
        var limit = snapshot.LastPosition;
        var findings = new List<IntegrityFinding>();
        var heads = new List<StreamHead>();
        var headsAtDigest = new List<StreamHead>();
        long events = 0, eventsAtDigest = 0;

        foreach (var stream in await store.ListStreamsAsync(string.Empty, cancellationToken))
        {
            var rows = (await store.ReadStreamAsync(stream, 0, cancellationToken))
                .Where(e => e.Position <= limit)
                .OrderBy(e => e.Version)
                .ThenBy(e => e.Position)
                .ToList();
            if (rows.Count == 0)
            {
                continue;
            }

            events += rows.Count;
            VerifyStream(stream, rows, findings);
            heads.Add(HeadOf(rows));
            if (expected is not null)
            {
                var covered = rows.Where(e => e.Position <= expected.GlobalPosition).ToList();
                eventsAtDigest += covered.Count;
                if (covered.Count > 0)
                {
                    headsAtDigest.Add(HeadOf(covered));
                }
            }
        }

        if (expected is not null)
        {
            CompareWithDigest(expected, headsAtDigest, eventsAtDigest, limit, findings);
        }

        findings.Sort(CompareFindings);
        return new IntegrityReport(findings, heads.Count, events, limit, Digest.Root(heads), expected is not null);
    }

    private static StreamHead HeadOf(List<RecordedEvent> rowsByVersion)
    {
        var last = rowsByVersion[^1];
        return new StreamHead(last.Stream, last.Version, last.Hash);
    }

    private static void VerifyStream(StreamId stream, List<RecordedEvent> byVersion, List<IntegrityFinding> findings)
    {
        FindGapsAndDuplicates(stream, byVersion, findings);

        // Positions are given at append, in order; a stream whose version order differs from its
        // position order has had versions renumbered or rows moved.
        var byPosition = byVersion.OrderBy(e => e.Position).ToList();
        var moved = new List<(RecordedEvent Row, RecordedEvent Slot)>();
        for (var i = 0; i < byVersion.Count; i++)
        {
            if (!ReferenceEquals(byPosition[i], byVersion[i]))
            {
                moved.Add((byPosition[i], byVersion[i]));
            }
        }

        if (moved.Count == 0)
        {
            findings.AddRange(WalkChain(stream, byVersion, i => byVersion[i].Version));
            return;
        }

        // Two readings of a reordering: the version numbers were swapped (the chain fits in position
        // order, with the versions the hashes were made with), or the rows were moved (the chain fits
        // in version order). Report the reading that explains more; the rest are further findings.
        var versionsSwapped = WalkChain(stream, byPosition, i => byVersion[i].Version);
        var rowsMoved = WalkChain(stream, byVersion, i => byVersion[i].Version);
        var swapped = versionsSwapped.Count <= rowsMoved.Count;
        foreach (var (row, slot) in moved)
        {
            findings.Add(new IntegrityFinding(
                IntegrityFindingKind.Reordered,
                stream,
                row.Version,
                row.Position,
                swapped
                    ? $"stored as version {row.Version}, but its global position and its hash fit version {slot.Version}: version numbers were swapped or renumbered"
                    : $"version {row.Version} sits at global position {row.Position}, out of the order in which versions were appended (version {slot.Version} is at that rank): rows were moved"));
        }

        findings.AddRange(swapped ? versionsSwapped : rowsMoved);
    }

    private static void FindGapsAndDuplicates(StreamId stream, List<RecordedEvent> byVersion, List<IntegrityFinding> findings)
    {
        long next = 0;
        foreach (var row in byVersion)
        {
            if (row.Version < next)
            {
                findings.Add(new IntegrityFinding(IntegrityFindingKind.Inserted, stream, row.Version, row.Position,
                    $"a second event with version {row.Version}: versions are unique in a stream, so one was inserted"));
                continue;
            }

            for (var missing = next; missing < row.Version; missing++)
            {
                findings.Add(new IntegrityFinding(IntegrityFindingKind.Deleted, stream, missing, null,
                    missing == 0
                        ? $"version 0 is missing; the stream starts at version {row.Version}: the event was deleted"
                        : $"version {missing} is missing between versions {next - 1} and {row.Version}: the event was deleted"));
            }

            next = row.Version + 1;
        }
    }

    /// <summary>
    /// Walks <paramref name="order"/>, recomputing each hash with the version at its rank and checking each
    /// link. A link that breaks right after a gap is explained by the deletion, reported already.
    /// </summary>
    private static List<IntegrityFinding> WalkChain(StreamId stream, List<RecordedEvent> order, Func<int, long> versionAt)
    {
        var findings = new List<IntegrityFinding>();
        var prevHash = EventHash.Genesis;
        long prevVersion = -1;
        Span<byte> prev = stackalloc byte[EventHash.Size];
        for (var i = 0; i < order.Count; i++)
        {
            var row = order[i];
            var version = versionAt(i);
            var afterGap = version > prevVersion + 1;
            var linked = string.Equals(row.PrevHash, prevHash, StringComparison.Ordinal);
            var intact = EventHash.TryParse(row.PrevHash, prev)
                && string.Equals(EventHash.Compute(stream, version, row.Type, row.RecordedAt, row.Json, prev), row.Hash, StringComparison.Ordinal);

            if (!intact && !linked && !afterGap)
            {
                findings.Add(new IntegrityFinding(IntegrityFindingKind.Inserted, stream, row.Version, row.Position,
                    $"fits the chain on neither side: its prev_hash is not the hash of version {prevVersion} and its own hash does not match its contents; it was not written by the broker"));
            }
            else if (!intact)
            {
                findings.Add(new IntegrityFinding(IntegrityFindingKind.Modified, stream, row.Version, row.Position,
                    "its stored hash does not match its contents: its data, type or recorded-at was changed after it was written"));
            }
            else if (!linked && !afterGap)
            {
                findings.Add(new IntegrityFinding(IntegrityFindingKind.ChainBroken, stream, row.Version, row.Position,
                    prevVersion < 0
                        ? "the first event's prev_hash is not 64 zeros: the start of the stream was rewritten"
                        : $"its prev_hash is not the hash of version {prevVersion}: version {prevVersion} was rewritten with a recomputed hash, or this link was forged"));
            }

            prevHash = row.Hash;
            prevVersion = version;
        }

        return findings;
    }

    private static void CompareWithDigest(DigestDocument expected, List<StreamHead> heads, long events, long limit, List<IntegrityFinding> findings)
    {
        var position = expected.GlobalPosition;
        if (position > limit)
        {
            findings.Add(new IntegrityFinding(IntegrityFindingKind.DigestMismatch, null, null, null,
                $"the digest covers global positions up to {position} but the store ends at {limit}: events at the end of the log were deleted, or the digest is of another store"));
        }

        var root = Digest.Root(heads);
        var rootMatches = string.Equals(root, expected.Root, StringComparison.OrdinalIgnoreCase);
        var countsMatch = heads.Count == expected.StreamCount && events == expected.EventCount;
        if (!rootMatches || !countsMatch)
        {
            findings.Add(new IntegrityFinding(IntegrityFindingKind.DigestMismatch, null, null, null,
                $"as of global position {position} the store has {heads.Count} streams, {events} events and root {root}; " +
                $"the digest of {expected.CreatedAt:O} records {expected.StreamCount} streams, {expected.EventCount} events and root {expected.Root}"));
        }

        if (expected.Heads is not { } recorded || rootMatches)
        {
            return;
        }

        var recordedHeads = recorded.Select(h => new StreamHead(new StreamId(h.Stream), h.Version, h.Hash)).ToList();
        if (!string.Equals(Digest.Root(recordedHeads), expected.Root, StringComparison.OrdinalIgnoreCase))
        {
            findings.Add(new IntegrityFinding(IntegrityFindingKind.DigestMismatch, null, null, null,
                "the digest document's stream heads do not give its own root: the document itself was altered, so it cannot name the streams that differ"));
            return;
        }

        // The digest names every stream's head: say which streams differ and how.
        var actual = heads.ToDictionary(h => h.Stream);
        foreach (var head in recordedHeads)
        {
            if (!actual.Remove(head.Stream, out var now))
            {
                findings.Add(new IntegrityFinding(IntegrityFindingKind.Deleted, head.Stream, 0, null,
                    $"the whole stream is gone: the digest records versions 0 to {head.Version} and the store has none of them"));
            }
            else if (now.Version < head.Version)
            {
                for (var v = now.Version + 1; v <= head.Version; v++)
                {
                    findings.Add(new IntegrityFinding(IntegrityFindingKind.Deleted, head.Stream, v, null,
                        $"the digest records the stream up to version {head.Version} but its chain now ends, intact, at version {now.Version}: a tail event was deleted, which only the digest shows"));
                }
            }
            else if (now.Version > head.Version)
            {
                for (var v = head.Version + 1; v <= now.Version; v++)
                {
                    findings.Add(new IntegrityFinding(IntegrityFindingKind.Inserted, head.Stream, v, null,
                        $"at or before the digest's position {position}, yet the digest records the stream only up to version {head.Version}: inserted"));
                }
            }
            else if (!string.Equals(now.Hash, head.Hash, StringComparison.OrdinalIgnoreCase))
            {
                findings.Add(new IntegrityFinding(IntegrityFindingKind.Modified, head.Stream, now.Version, null,
                    "the head's hash differs from the digest's: the stream was rewritten and its chain recomputed"));
            }
        }

        foreach (var extra in actual.Values)
        {
            findings.Add(new IntegrityFinding(IntegrityFindingKind.Inserted, extra.Stream, 0, null,
                $"the stream has events at or before the digest's position {position} but the digest does not record it: inserted"));
        }
    }

    private static int CompareFindings(IntegrityFinding a, IntegrityFinding b)
    {
        var byStream = string.CompareOrdinal(a.Stream?.Value, b.Stream?.Value);
        if (byStream != 0)
        {
            return byStream;
        }

        var byVersion = Nullable.Compare(a.Version, b.Version);
        return byVersion != 0 ? byVersion : a.Kind.CompareTo(b.Kind);
    }
}
