using System.Globalization;

namespace ComputeBroker.Simulation.Output;

/// <summary>
/// Builds one CSV line (RFC 4180 quoting, invariant culture) in a reusable buffer and writes it, so a
/// million rows cost no string per field. Not thread-safe: one per writer.
/// </summary>
internal sealed class CsvLine(TextWriter writer)
{
    private char[] _buffer = new char[512];
    private int _length;
    private bool _first = true;

    public CsvLine Text(string? value)
    {
        Separator();
        if (string.IsNullOrEmpty(value))
        {
            return this;
        }

        if (value.AsSpan().IndexOfAny(",\"\r\n") < 0)
        {
            Append(value);
            return this;
        }

        Append("\"");
        Append(value.Replace("\"", "\"\"", StringComparison.Ordinal));
        Append("\"");
        return this;
    }

    public CsvLine Number(long value)
    {
        Separator();
        Format(value, default);
        return this;
    }

    /// <summary>A double with up to <paramref name="decimals"/> decimals; NaN is an empty field.</summary>
    public CsvLine Number(double value, int decimals = 4)
    {
        Separator();
        if (double.IsNaN(value))
        {
            return this;
        }

        Format(Math.Round(value, decimals), decimals switch { 0 => "0", 1 => "0.#", 2 => "0.##", 3 => "0.###", _ => "0.####" });
        return this;
    }

    public CsvLine Money(decimal value)
    {
        Separator();
        Format(decimal.Round(value, 2, MidpointRounding.ToEven), "0.00");
        return this;
    }

    /// <summary>An instant as <c>2025-01-21T09:30:00Z</c>.</summary>
    public CsvLine Instant(DateTimeOffset value)
    {
        Separator();
        Format(value.UtcDateTime, "yyyy-MM-dd'T'HH:mm:ss'Z'");
        return this;
    }

    public CsvLine Date(DateTimeOffset value)
    {
        Separator();
        Format(value.UtcDateTime, "yyyy-MM-dd");
        return this;
    }

    /// <summary>Appends raw text to the current field (no separator, no quoting): for composite fields the caller keeps clean.</summary>
    public CsvLine Raw(ReadOnlySpan<char> text)
    {
        Append(text);
        return this;
    }

    public CsvLine RawNumber(long value)
    {
        Format(value, default);
        return this;
    }

    /// <summary>Starts an empty field that <see cref="Raw"/> then fills.</summary>
    public CsvLine Field()
    {
        Separator();
        return this;
    }

    public void End()
    {
        Append("\n");
        writer.Write(_buffer, 0, _length);
        _length = 0;
        _first = true;
    }

    private void Separator()
    {
        if (!_first)
        {
            Append(",");
        }

        _first = false;
    }

    private void Format<T>(T value, ReadOnlySpan<char> format) where T : ISpanFormattable
    {
        int written;
        while (!value.TryFormat(_buffer.AsSpan(_length), out written, format, CultureInfo.InvariantCulture))
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }

        _length += written;
    }

    private void Append(ReadOnlySpan<char> text)
    {
        if (_length + text.Length > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + text.Length));
        }

        text.CopyTo(_buffer.AsSpan(_length));
        _length += text.Length;
    }
}
