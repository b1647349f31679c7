namespace ComputeBroker.Cli.Tests;

[Collection(SharedServerCollection.Name)]
public sealed class AuditAndKeyVerbTests(SharedServer shared)
{
    private BrokerServer Server => shared.Server;

    [Fact]
    public async Task AuditVerify_OnTheServer_PassesAndSaysWhatItChecked()
    {
        var result = await Server.RunAsync("audit", "verify");
        var json = (await Server.RunAsync("audit", "verify", "--json")).Json();

        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("passed the broker's log", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("hash chains          intact", result.Stdout, StringComparison.Ordinal);
        Assert.True(json.GetProperty("passed").GetBoolean());
        Assert.True(json.GetProperty("eventsChecked").GetInt64() > 0);
    }

    [Fact]
    public async Task AuditDigest_WrittenToAFile_IsMatchedByVerify()
    {
        var digest = await Server.RunAsync("audit", "digest", "--out", "digest.json");
        var verify = await Server.RunAsync("audit", "verify", "--digest", "digest.json");
        var printed = (await Server.RunAsync("audit", "digest")).Json();

        Assert.Equal(0, digest.ExitCode);
        Assert.Contains("wrote digest", digest.Stdout, StringComparison.Ordinal);
        Assert.Contains("computebroker-digest/1", await File.ReadAllTextAsync(Path.Combine(Server.Directory, "digest.json")), StringComparison.Ordinal);
        Assert.Equal(0, verify.ExitCode);
        Assert.Contains("digest               matches", verify.Stdout, StringComparison.Ordinal);
        Assert.Equal(64, printed.GetProperty("root").GetString()!.Length);
    }

    [Fact]
    public async Task AuditVerify_DigestFileThatIsNotADigest_ExitsOne()
    {
        Server.WriteFile("not-a-digest.json", "{\"hello\": 1}");

        var result = await Server.RunAsync("audit", "verify", "--digest", "not-a-digest.json");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--digest", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeysCreate_PrintsTheKeyOnceWithAWarning_AndTheKeyWorks_UntilRevoked()
    {
        var created = await Server.RunAsync("keys", "create", "--role", "auditor", "--note", "external auditor");
        var key = created.Stdout.Split('\n').Single(l => l.StartsWith("cbk_", StringComparison.Ordinal)).Trim();
        var id = key.Split('_')[1];
        var list = await Server.RunAsync("keys", "list");
        var asAuditor = await Server.RunAsAsync(key, "audit", "verify");
        var forbidden = await Server.RunAsAsync(key, "keys", "list");
        var revoked = await Server.RunAsync("keys", "revoke", id);
        var afterRevoke = await Server.RunAsAsync(key, "audit", "verify");
        var listJson = (await Server.RunAsync("keys", "list", "--json")).Json();

        Assert.Equal(0, created.ExitCode);
        Assert.Contains("shown this once", created.Stdout, StringComparison.Ordinal);
        Assert.Contains(list.Stdout.Split('\n'), l => l.Contains(id, StringComparison.Ordinal) && l.Contains("auditor", StringComparison.Ordinal) && l.Contains("external auditor", StringComparison.Ordinal));
        Assert.DoesNotContain(key, list.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, asAuditor.ExitCode);
        Assert.Equal(1, forbidden.ExitCode);
        Assert.Contains("403", forbidden.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, revoked.ExitCode);
        Assert.Contains($"revoked key {id}", revoked.Stdout, StringComparison.Ordinal);
        Assert.Equal(1, afterRevoke.ExitCode);
        Assert.Contains("401", afterRevoke.Stderr, StringComparison.Ordinal);
        Assert.NotEqual(System.Text.Json.JsonValueKind.Null, listJson.EnumerateArray().Single(k => k.GetProperty("id").GetString() == id).GetProperty("revokedAt").ValueKind);
    }

    [Fact]
    public async Task KeysRevoke_UnknownKey_ExitsOne()
    {
        var result = await Server.RunAsync("keys", "revoke", "ffffffffff");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("404", result.Stderr, StringComparison.Ordinal);
    }
}
