using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Diagnostics.Tracing;
using ComputeBroker.Server.Service;

namespace ComputeBroker.Load;

/// <summary>
/// What stalls submits during a measurement: every commit's duration, from the broker's own meter
/// (<see cref="CommitQueue.DurationInstrument"/>), and every garbage collection's pause, from the runtime's events. A submit
/// waits for the commit in progress and then its own, and a pause stops every thread of the process, so the longest of each
/// is what the submit latency's tail is made of.
/// </summary>
internal sealed class Stalls : IDisposable
{
    private readonly MeterListener _commits = new();
    private readonly GcPauses _pauses = new();
    private readonly ConcurrentQueue<double> _commitSeconds = new();

    public Stalls()
    {
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
    private sealed class GcPauses : EventListener
    {
        private const int SuspendBegin = 9;   // GCSuspendEEBegin_V1
        private const int RestartEnd = 3;     // GCRestartEEEnd_V1
        private readonly Lock _gate = new();
        private DateTime? _suspended;
        private TimeSpan _longest;

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
                if (e.EventId == SuspendBegin)
                {
                    _suspended = e.TimeStamp;
                }
                else if (e.EventId == RestartEnd && _suspended is { } from)
                {
                    _longest = TimeSpan.FromTicks(Math.Max(_longest.Ticks, (e.TimeStamp - from).Ticks));
                    _suspended = null;
                }
            }
        }
    }
}
