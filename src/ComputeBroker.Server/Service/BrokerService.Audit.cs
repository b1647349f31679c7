using ComputeBroker.Audit;
using ComputeBroker.Ledger;
using ComputeBroker.Sourcing;
using ComputeBroker.Storage.Integrity;

namespace ComputeBroker.Server.Service;

/// <summary>An audit run: the log's integrity, the workflow invariants replayed, and the money side.</summary>
public sealed record AuditResult(
    bool Passed,
    DateTimeOffset CheckedAt,
    long EventsChecked,
    IntegrityReport Integrity,
    IReadOnlyList<AuditViolation> Violations,
    IReadOnlyList<LedgerViolation> LedgerViolations,
    DigestDocument Digest);

public sealed partial class BrokerService
{
    private AuditResult? _lastAudit;

    /// <summary>The last audit run by this process, if any.</summary>
    public AuditResult? LastAudit => Volatile.Read(ref _lastAudit);

    /// <summary>
    /// Recomputes every hash and the digest (comparing with <paramref name="expected"/> when given, a digest
    /// kept outside the database), then replays every sourcing event through the audit verifier (I1-I4) and
    /// every ledger event through the ledger verifier (I4 on the money side).
    /// </summary>
    public async Task<AuditResult> AuditAsync(DigestDocument? expected, CancellationToken ct)
    {
        var integrity = await IntegrityVerifier.VerifyAsync(_store, expected, ct);
        var sourcing = new List<SourcingEvent>();
        var ledger = new List<LedgerEvent>();
        long position = 1;
        long count = 0;
        while (true)
        {
            var batch = await _store.ReadAllAsync(position, 5000, ct);
            if (batch.Count == 0)
            {
                break;
            }

            foreach (var stored in batch)
            {
                count++;
                switch (EventCodec.Deserialize(stored.Stream.Value, stored.Type, stored.Json))
                {
                    case SourcingEvent s:
                        sourcing.Add(s);
                        break;
                    case LedgerEvent l:
                        ledger.Add(l);
                        break;
                }
            }

            position = batch[^1].Position + 1;
        }

        await CatchUpAsync(ct);
        var book = Projection.Book;
        var invariants = AuditVerifier.Verify(sourcing, book);
        var money = LedgerVerifier.Verify(ledger, book);
        var digest = await Digest.CaptureAsync(_store, _clock, DigestDetail.RootOnly, ct);
        var result = new AuditResult(integrity.Passed && invariants.Passed && money.Count == 0, _clock.GetUtcNow(), count, integrity, invariants.Violations, money, digest);
        Volatile.Write(ref _lastAudit, result);
        return result;
    }
}
