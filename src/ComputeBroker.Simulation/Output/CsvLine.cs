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

    /// <summary>A double with up to <paramref name="decimals"/> decimals (trailing zeros dropped); NaN is an empty field.</summary>
    public CsvLine Number(double value, int decimals = 4)
    {
        Separator();
        if (double.IsNaN(value))
        {
            return this;
        }

        // Fixed point by hand: the general formatter costs microseconds per field, and a run writes millions.
        var scale = Pow10[decimals];
        var scaled = (long)Math.Round(value * scale, MidpointRounding.AwayFromZero);
        Fixed(scaled, decimals, trim: true);
        return this;
    }

    /// <summary>An amount rounded half-even to the cent, with two decimals.</summary>
    public CsvLine Money(decimal value)
    {
        Separator();
        var cents = decimal.Round(value, 2, MidpointRounding.ToEven) * 100m;
        if (Math.Abs(cents) < long.MaxValue)
        {
            Fixed((long)cents, 2, trim: false);
        }
        else
        {
            Format(decimal.Round(value, 2, MidpointRounding.ToEven), "0.00");
        }

        return this;
    }

    /// <summary>An instant as <c>2025-01-21T09:30:00Z</c> (UTC, whole seconds).</summary>
    public CsvLine Instant(DateTimeOffset value)
    {
        Separator();
        var utc = value.UtcDateTime;
        Digits(utc.Year, 4);
        Append("-");
        Digits(utc.Month, 2);
        Append("-");
        Digits(utc.Day, 2);
        Append("T");
        Digits(utc.Hour, 2);
        Append(":");
        Digits(utc.Minute, 2);
        Append(":");
        Digits(utc.Second, 2);
        Append("Z");
        return this;
    }

    public CsvLine Date(DateTimeOffset value)
    {
        Separator();
        var utc = value.UtcDateTime;
        Digits(utc.Year, 4);
        Append("-");
        Digits(utc.Month, 2);
        Append("-");
        Digits(utc.Day, 2);
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

    private static readonly double[] Pow10 = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];

    /// <summary>Writes <paramref name="scaled"/> / 10^<paramref name="decimals"/>, optionally without trailing zeros.</summary>
    private void Fixed(long scaled, int decimals, bool trim)
    {
        if (scaled < 0)
        {
            Append("-");
            scaled = -scaled;
        }

        var divisor = (long)Pow10[decimals];
        Format(scaled / divisor, default);
        var fraction = scaled % divisor;
        var digits = decimals;
        if (trim)
        {
            while (digits > 0 && fraction % 10 == 0)
            {
                fraction /= 10;
                digits--;
            }
        }

        if (digits > 0)
        {
            Append(".");
            Digits((int)fraction, digits);
        }
    }

    /// <summary>A non-negative number with leading zeros to <paramref name="width"/> digits.</summary>
    private void Digits(int value, int width)
    {
        if (_length + width > _buffer.Length)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }

        for (var i = width - 1; i >= 0; i--)
        {
            _buffer[_length + i] = (char)('0' + (value % 10));
            value /= 10;
        }

        _length += width;
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
