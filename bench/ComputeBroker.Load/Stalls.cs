using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Diagnostics.Tracing;
using ComputeBroker.Server.Service;

namespace ComputeBroker.Load;

/// <summary>
/// What stalls submits during a measurement: every commit's duration, from the broker's own meter
/// (<see cref="CommitQueue.DurationInstrument"/>), and every garbage collection's pause, from the runtime's events. A submit
/// waits for the commit in progress and then its own, and a pause stops every thread of the process, so the longest of each
/// is what the submit latency's tail is made of. With a log, each collection is written as it ends.
/// </summary>
internal sealed class Stalls : IDisposable
{
    private readonly MeterListener _commits = new();
    private readonly GcPauses _pauses;
    private readonly ConcurrentQueue<double> _commitSeconds = new();

    /// <param name="gcLog">Where to write a line per collection (number, generation, kind, cause, pause, bytes promoted); none when null.</param>
    public Stalls(TextWriter? gcLog = null)
    {
        _pauses = new GcPauses(gcLog);
        _commits.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == CommitQueue.MeterName && instrument.Name == CommitQueue.DurationInstrument)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _commits.SetMeasurementEventCallback<double>((_, seconds, _, _) => _commitSeconds.Enqueue(seconds));
        _commits.Start();
    }

    /// <summary>Commit durations recorded so far, in milliseconds, sorted.</summary>
    public double[] CommitMilliseconds()
    {
        var sorted = _commitSeconds.Select(s => s * 1000).ToArray();
        Array.Sort(sorted);
        return sorted;
    }

    /// <summary>The longest pause of any collection so far; zero when none ran.</summary>
    public TimeSpan LongestPause => _pauses.Longest;

    public void Dispose()
    {
        _commits.Dispose();
        _pauses.Dispose();
    }

    /// <summary>
    /// Times each collection's pause from the runtime's GC events: from the start of suspending the managed threads to the end of
    /// restarting them, which is how long every thread stood still.
    /// </summary>
    private sealed class GcPauses(TextWriter? log) : EventListener
    {
        private const int Start = 1;          // GCStart_V2: Count, Depth, Reason, Type
        private const int SuspendBegin = 9;   // GCSuspendEEBegin_V1
        private const int RestartEnd = 3;     // GCRestartEEEnd_V1
        private static readonly string[] Kinds = ["blocking", "background", "foreground"];
        private static readonly string[] Reasons = ["allocation", "induced", "low memory", "empty", "large allocation", "out of space", "out of large space", "induced, not forced"];
        private readonly Lock _gate = new();
        private DateTime? _suspended;
        private TimeSpan _longest;
        private (uint Number, uint Generation, string Kind, string Reason)? _collection;

        public TimeSpan Longest
        {
            get
            {
                lock (_gate)
                {
                    return _longest;
                }
            }
        }

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime")
            {
                EnableEvents(source, EventLevel.Informational, (EventKeywords)0x1 /* GC */);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            lock (_gate)
            {
                if (e.EventId == Start && e.Payload is [uint number, uint generation, uint reason, uint kind, ..])
                {
                    _collection = (number, generation, kind < Kinds.Length ? Kinds[kind] : $"kind {kind}", reason < Reasons.Length ? Reasons[reason] : $"reason {reason}");
                }
                else if (e.EventId == SuspendBegin)
                {
                    _suspended = e.TimeStamp;
                }
                else if (e.EventId == RestartEnd && _suspended is { } from)
                {
                    var pause = e.TimeStamp - from;
                    _longest = TimeSpan.FromTicks(Math.Max(_longest.Ticks, pause.Ticks));
                    _suspended = null;
                    Log(pause);
                }
            }
        }

        /// <summary>
        /// One line per pause: the collection that started last (a background collection pauses twice, and ephemeral ones run
        /// meanwhile), and what it promoted when the runtime's figures are for that collection.
        /// </summary>
        private void Log(TimeSpan pause)
        {
            if (log is null || _collection is not { } gc)
            {
                return;
            }

            var info = GC.GetGCMemoryInfo(GCKind.Any);
            var promoted = info.Index == gc.Number ? FormattableString.Invariant($", promoted {info.PromotedBytes / 1e6:N1} MB") : string.Empty;
            log.WriteLine(FormattableString.Invariant(
                $"  gc #{gc.Number} gen{gc.Generation} {gc.Kind} ({gc.Reason}): pause {pause.TotalMilliseconds:N1} ms{promoted}, heap {info.HeapSizeBytes / 1e6:N0} MB"));
        }
    }
}
