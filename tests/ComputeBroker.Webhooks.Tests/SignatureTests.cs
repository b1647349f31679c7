using System.Text;
using ComputeBroker.Server.Webhooks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;
using StandardWebhooks;
using StandardWebhooks.Diagnostics;

namespace ComputeBroker.Webhooks.Tests;

/// <summary>
/// The broker's signer and verifier against an independent implementation (the StandardWebhooks package) and
/// the specification's published example, and the verifier's refusal cases.
/// </summary>
public sealed class SignatureTests
{
    private const string Id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"type":"offer.created","timestamp":"2025-03-01T00:00:00+00:00","data":{"offerId":"r-1-o1","gpus":512}}""");

    [Fact]
    public void Sign_SpecificationExample_GivesThePublishedSignature()
    {
        var signature = WebhookSigner.Sign([TestSecrets.Parse(TestSecrets.Current)], Id, 1614265330, Encoding.UTF8.GetBytes("""{"test": 2432232314}"""));

        Assert.Equal("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", signature);
    }

    [Fact]
    public void Sign_IsVerifiedByTheStandardWebhooksPackage()
    {
        var now = DateTimeOffset.UtcNow;
        var signature = WebhookSigner.Sign([TestSecrets.Parse(TestSecrets.Current)], Id, now.ToUnixTimeSeconds(), Body);

        new StandardWebhook(TestSecrets.Current).Verify(Encoding.UTF8.GetString(Body), Headers(Id, now.ToUnixTimeSeconds(), signature));
    }

    [Fact]
    public void Sign_MatchesThePackagesSignatureExactly()
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());

        var ours = WebhookSigner.Sign([TestSecrets.Parse(TestSecrets.Current)], Id, now.ToUnixTimeSeconds(), Body);
        var theirs = new StandardWebhook(TestSecrets.Current).Sign(Id, now, Encoding.UTF8.GetString(Body));

        Assert.Equal(theirs, ours);
    }

    [Fact]
    public void Sign_DuringRotation_CarriesBothSignaturesAndEachSecretVerifies()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var signature = WebhookSigner.Sign([TestSecrets.Parse(TestSecrets.Current), TestSecrets.Parse(TestSecrets.Previous)], Id, now, Body);

        Assert.Equal(2, signature.Split(' ').Length);
        Assert.All(signature.Split(' '), s => Assert.StartsWith("v1,", s, StringComparison.Ordinal));
        new StandardWebhook(TestSecrets.Current).Verify(Encoding.UTF8.GetString(Body), Headers(Id, now, signature));
        new StandardWebhook(TestSecrets.Previous).Verify(Encoding.UTF8.GetString(Body), Headers(Id, now, signature.Split(' ')[1]));
        Assert.True(Verifier(TestSecrets.Current).Verify(Id, Ts(now), signature, Body).Valid);
        Assert.True(Verifier(TestSecrets.Previous).Verify(Id, Ts(now), signature, Body).Valid);
        Assert.Throws<WebhookVerificationException>(() => new StandardWebhook(TestSecrets.Other).Verify(Encoding.UTF8.GetString(Body), Headers(Id, now, signature)));
    }

    [Fact]
    public void Verify_PackageSignedWebhook_IsValid()
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        var signature = new StandardWebhook(TestSecrets.Current).Sign(Id, now, Encoding.UTF8.GetString(Body));

        var result = Verifier(TestSecrets.Current).Verify(Id, Ts(now.ToUnixTimeSeconds()), signature, Body);

        Assert.True(result.Valid, result.Message);
    }

    [Fact]
    public void Verify_SeveralSignaturesWithOneValid_IsValid()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var good = WebhookSigner.Sign([TestSecrets.Parse(TestSecrets.Current)], Id, now, Body);
        var header = $"v1,{Convert.ToBase64String(new byte[32])} v2,notasignatureversionweknow {good} v1,not-base64!";

        var ours = Verifier(TestSecrets.Current).Verify(Id, Ts(now), header, Body);

        Assert.True(ours.Valid, ours.Message);
        new StandardWebhook(TestSecrets.Current).Verify(Encoding.UTF8.GetString(Body), Headers(Id, now, $"v1,{Convert.ToBase64String(new byte[32])} {good} v1,{Convert.ToBase64String(new byte[32])}"));
    }

    /// <summary>
    /// StandardWebhooks 1.1.2 compares the whole header, not the last entry, on its last pass, so a valid signature
    /// in last place is never found. The broker's header follows the specification (current secret first, then the
    /// previous one); a receiver on that package verifies with the current secret. This test notices when the package is fixed.
    /// </summary>
    [Fact]
    public void StandardWebhooksPackage_1_1_2_IgnoresTheLastOfSeveralSignatures()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var good = WebhookSigner.Sign([TestSecrets.Parse(TestSecrets.Current)], Id, now, Body);
        var header = $"v1,{Convert.ToBase64String(new byte[32])} {good}";

        Assert.True(Verifier(TestSecrets.Current).Verify(Id, Ts(now), header, Body).Valid);
        Assert.Throws<WebhookVerificationException>(() => new StandardWebhook(TestSecrets.Current).Verify(Encoding.UTF8.GetString(Body), Headers(Id, now, header)));
    }

    [Fact]
    public void Verify_TamperedBody_IsRefused()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var signature = WebhookSigner.Sign([TestSecrets.Parse(TestSecrets.Current)], Id, now, Body);
        var tampered = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(Body).Replace("512", "513", StringComparison.Ordinal));

        var result = Verifier(TestSecrets.Current).Verify(Id, Ts(now), signature, tampered);

        Assert.Equal(WebhookRejection.NoMatchingSignature, result.Rejection);
        Assert.Throws<WebhookVerificationException>(() => new StandardWebhook(TestSecrets.Current).Verify(Encoding.UTF8.GetString(tampered), Headers(Id, now, signature)));
    }

    [Fact]
    public void Verify_ChangedIdOrTimestamp_IsRefused()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var signature = WebhookSigner.Sign([TestSecrets.Parse(TestSecrets.Current)], Id, now, Body);

        Assert.Equal(WebhookRejection.NoMatchingSignature, Verifier(TestSecrets.Current).Verify("msg_other", Ts(now), signature, Body).Rejection);
        Assert.Equal(WebhookRejection.NoMatchingSignature, Verifier(TestSecrets.Current).Verify(Id, Ts(now - 1), signature, Body).Rejection);
    }

    [Fact]
    public void Verify_WrongSecret_IsRefused()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var signature = WebhookSigner.Sign([TestSecrets.Parse(TestSecrets.Other)], Id, now, Body);

        var result = Verifier(TestSecrets.Current).Verify(Id, Ts(now), signature, Body);

        Assert.Equal(WebhookRejection.NoMatchingSignature, result.Rejection);
        Assert.Throws<WebhookVerificationException>(() => new StandardWebhook(TestSecrets.Current).Verify(Encoding.UTF8.GetString(Body), Headers(Id, now, signature)));
    }

    [Fact]
    public void Verify_TimestampOlderThanFiveMinutes_IsRefused()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2025-03-01T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var sent = clock.GetUtcNow().AddMinutes(-5).AddSeconds(-1).ToUnixTimeSeconds();
        var signature = WebhookSigner.Sign([TestSecrets.Parse(TestSecrets.Current)], Id, sent, Body);

        var result = Verifier(TestSecrets.Current, clock).Verify(Id, Ts(sent), signature, Body);

        Assert.Equal(WebhookRejection.TimestampTooOld, result.Rejection);
        Assert.True(Verifier(TestSecrets.Current, clock).Verify(Id, Ts(sent + 1), WebhookSigner.Sign([TestSecrets.Parse(TestSecrets.Current)], Id, sent + 1, Body), Body).Valid, "exactly five minutes old is still inside the tolerance");
        var realOld = DateTimeOffset.UtcNow.AddMinutes(-10).ToUnixTimeSeconds();
        Assert.Throws<WebhookVerificationException>(() => new StandardWebhook(TestSecrets.Current).Verify(Encoding.UTF8.GetString(Body),
            Headers(Id, realOld, WebhookSigner.Sign([TestSecrets.Parse(TestSecrets.Current)], Id, realOld, Body))));
    }

    [Fact]
    public void Verify_TimestampMoreThanFiveMinutesAhead_IsRefused()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2025-03-01T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var sent = clock.GetUtcNow().AddMinutes(6).ToUnixTimeSeconds();

        var result = Verifier(TestSecrets.Current, clock).Verify(Id, Ts(sent), WebhookSigner.Sign([TestSecrets.Parse(TestSecrets.Current)], Id, sent, Body), Body);

        Assert.Equal(WebhookRejection.TimestampTooNew, result.Rejection);
    }

    [Theory]
    [InlineData(null, "1614265330", "v1,abc", "webhook-id")]
    [InlineData(Id, null, "v1,abc", "webhook-timestamp")]
    [InlineData(Id, "1614265330", null, "webhook-signature")]
    [InlineData("", "", "", "webhook-id, webhook-timestamp, webhook-signature")]
    public void Verify_MissingHeaders_IsRefusedNamingThem(string? id, string? timestamp, string? signature, string named)
    {
        var result = Verifier(TestSecrets.Current).Verify(id, timestamp, signature, Body);

        Assert.Equal(WebhookRejection.MissingHeaders, result.Rejection);
        Assert.Contains(named, result.Message, StringComparison.Ordinal);
        var headers = new HeaderDictionary();
        if (id is { Length: > 0 })
        {
            headers["webhook-id"] = id;
        }

        if (timestamp is { Length: > 0 })
        {
            headers["webhook-timestamp"] = timestamp;
        }

        if (signature is { Length: > 0 })
        {
            headers["webhook-signature"] = signature;
        }

        Assert.Throws<WebhookVerificationException>(() => new StandardWebhook(TestSecrets.Current).Verify(Encoding.UTF8.GetString(Body), headers));
    }

    [Fact]
    public void Verify_TimestampNotUnixSeconds_IsRefused()
    {
        var result = Verifier(TestSecrets.Current).Verify(Id, "2025-03-01T00:00:00Z", "v1,abc", Body);

        Assert.Equal(WebhookRejection.InvalidTimestamp, result.Rejection);
    }

    [Fact]
    public void Secret_NeverShowsItsKey()
    {
        var secret = TestSecrets.Parse(TestSecrets.Current);
        var endpoint = new WebhookEndpoint(new Domain.ProviderId("azure"), new Uri("https://azure.example/hooks"), [secret]);

        Assert.Equal("whsec_***", secret.ToString());
        Assert.DoesNotContain("MfKQ9r8", endpoint.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("MfKQ9r8", new Providers.WebhookSigning(TestSecrets.Current).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_EnvReference_ReadsTheVariableAndNamesItWhenUnset()
    {
        var secret = WebhookSecret.Resolve("env:AZURE_HOOK", name => name == "AZURE_HOOK" ? TestSecrets.Current : null, "provider azure: secret");
        var error = Assert.Throws<InvalidOperationException>(() => WebhookSecret.Resolve("env:ORACLE_HOOK", _ => null, "provider oracle: secret"));

        Assert.Equal(WebhookSigner.Sign([TestSecrets.Parse(TestSecrets.Current)], Id, 1, Body), WebhookSigner.Sign([secret], Id, 1, Body));
        Assert.Contains("ORACLE_HOOK is not set", error.Message, StringComparison.Ordinal);
    }

    private static WebhookVerifier Verifier(string secret, TimeProvider? clock = null) => new([TestSecrets.Parse(secret)], clock);

    private static string Ts(long seconds) => seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static HeaderDictionary Headers(string id, long timestamp, string signature) => new()
    {
        ["webhook-id"] = id,
        ["webhook-timestamp"] = Ts(timestamp),
        ["webhook-signature"] = signature,
    };
}
