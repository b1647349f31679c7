using System.Globalization;

namespace ComputeBroker.Domain;

/// <summary>An ISO 4217 currency code such as <c>USD</c>. Immutable.</summary>
public readonly record struct Currency
{
    public Currency(string code)
    {
        if (code is not { Length: 3 } || !code.All(char.IsAsciiLetterUpper))
        {
            throw new ArgumentException($"'{code}' is not a currency code (three capital letters, e.g. USD).", nameof(code));
        }

        Code = code;
    }

    public string Code { get; }

    public static readonly Currency Usd = new("USD");

    public override string ToString() => Code;
}

/// <summary>
/// An exact amount of money in one currency. Arithmetic between different currencies throws:
/// mixing currencies is always a programming or input error, never silently converted.
/// </summary>
public readonly record struct Money(decimal Amount, Currency Currency) : IComparable<Money>
{
    public static Money Zero(Currency currency) => new(0m, currency);

    public static Money Usd(decimal amount) => new(amount, Currency.Usd);

    public static Money operator +(Money a, Money b) => new(a.Amount + b.Amount, Same(a, b));

    public static Money operator -(Money a, Money b) => new(a.Amount - b.Amount, Same(a, b));

    public static Money operator *(Money a, decimal factor) => new(a.Amount * factor, a.Currency);

    public static bool operator <(Money a, Money b) => a.CompareTo(b) < 0;

    public static bool operator >(Money a, Money b) => a.CompareTo(b) > 0;

    public static bool operator <=(Money a, Money b) => a.CompareTo(b) <= 0;

    public static bool operator >=(Money a, Money b) => a.CompareTo(b) >= 0;

    public int CompareTo(Money other)
    {
        Same(this, other);
        return Amount.CompareTo(other.Amount);
    }

    public static Money Min(Money a, Money b) => a <= b ? a : b;

    public static Money Max(Money a, Money b) => a >= b ? a : b;

    /// <summary>Rounds to the cent with banker's rounding (half to even), the ledger's documented rule.</summary>
    public Money RoundToCent() => new(decimal.Round(Amount, 2, MidpointRounding.ToEven), Currency);

    /// <summary>Parses <c>"12.29 USD"</c>.</summary>
    public static bool TryParse(string? text, out Money money, out string error)
    {
        money = default;
        error = string.Empty;
        var parts = (text ?? string.Empty).Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2)
        {
            error = $"'{text}' is not an amount of money (write it as '12.29 USD')";
            return false;
        }

        if (!decimal.TryParse(parts[0].Replace("_", string.Empty, StringComparison.Ordinal), NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var amount))
        {
            error = $"'{parts[0]}' in '{text}' is not a decimal number (write it as '12.29 USD')";
            return false;
        }

        if (parts[1] is not { Length: 3 } code || !code.All(char.IsAsciiLetterUpper))
        {
            error = $"'{parts[1]}' in '{text}' is not a currency code (three capital letters, e.g. USD)";
            return false;
        }

        money = new Money(amount, new Currency(code));
        return true;
    }

    public static Money Parse(string text) =>
        TryParse(text, out var money, out var error) ? money : throw new FormatException(error);

    public override string ToString() => $"{Amount.ToString("0.00##########", CultureInfo.InvariantCulture)} {Currency.Code}";

    private static Currency Same(Money a, Money b) =>
        a.Currency == b.Currency
            ? a.Currency
            : throw new CurrencyMismatchException(a.Currency, b.Currency);
}

/// <summary>Thrown when two amounts in different currencies meet in one operation.</summary>
public sealed class CurrencyMismatchException(Currency left, Currency right)
    : InvalidOperationException($"Cannot combine amounts in {left} and {right}: one currency per amount, no implicit conversion.")
{
    public Currency Left { get; } = left;

    public Currency Right { get; } = right;
}

/// <summary>A price for one GPU for one hour.</summary>
public readonly record struct PricePerGpuHour(Money PerHour) : IComparable<PricePerGpuHour>
{
    public Currency Currency => PerHour.Currency;

    public int CompareTo(PricePerGpuHour other) => PerHour.CompareTo(other.PerHour);

    public static bool operator <(PricePerGpuHour a, PricePerGpuHour b) => a.CompareTo(b) < 0;

    public static bool operator >(PricePerGpuHour a, PricePerGpuHour b) => a.CompareTo(b) > 0;

    public static bool operator <=(PricePerGpuHour a, PricePerGpuHour b) => a.CompareTo(b) <= 0;

    public static bool operator >=(PricePerGpuHour a, PricePerGpuHour b) => a.CompareTo(b) >= 0;

    public static PricePerGpuHour Min(PricePerGpuHour a, PricePerGpuHour b) => a <= b ? a : b;

    /// <summary>The cost of <paramref name="gpus"/> GPUs for <paramref name="hours"/> hours, exact.</summary>
    public Money Cost(GpuCount gpus, int hours) => PerHour * ((decimal)gpus.Value * hours);

    public static PricePerGpuHour Parse(string text) => new(Money.Parse(text));

    public override string ToString() => $"{PerHour}/GPU-h";
}

/// <summary>A number of GPU dies (a GB200 superchip counts as two). Never negative.</summary>
public readonly record struct GpuCount : IComparable<GpuCount>
{
    public GpuCount(int value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        Value = value;
    }

    public int Value { get; }

    public static GpuCount None => default;

    public bool IsZero => Value == 0;

    public static GpuCount operator +(GpuCount a, GpuCount b) => new(checked(a.Value + b.Value));

    public static GpuCount operator -(GpuCount a, GpuCount b) => new(a.Value - b.Value);

    public static bool operator <(GpuCount a, GpuCount b) => a.Value < b.Value;

    public static bool operator >(GpuCount a, GpuCount b) => a.Value > b.Value;

    public static bool operator <=(GpuCount a, GpuCount b) => a.Value <= b.Value;

    public static bool operator >=(GpuCount a, GpuCount b) => a.Value >= b.Value;

    public static GpuCount Min(GpuCount a, GpuCount b) => a.Value <= b.Value ? a : b;

    public int CompareTo(GpuCount other) => Value.CompareTo(other.Value);

    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);
}
