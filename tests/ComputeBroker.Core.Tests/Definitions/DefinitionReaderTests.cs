using ComputeBroker.Definitions;
using static ComputeBroker.Tests.Definitions.DefinitionAssert;

namespace ComputeBroker.Tests.Definitions;

public sealed class DefinitionReaderTests
{
    [Fact]
    public void ReadAgreement_YamlSyntaxError_GivesLineAndColumn()
    {
        const string text = "kind: agreement\nid: a\ncustomer: openai\n  parties: [openai\n";

        var parsed = DefinitionReader.ReadAgreement(text, "a.yaml");

        var error = Assert.Single(parsed.Errors);
        Assert.Matches(@"^line 4, column \d+$", error.Path);
        Assert.Equal(4, error.Line);
        Assert.Contains("check the indentation", error.Message, StringComparison.Ordinal);
        Assert.StartsWith("a.yaml: line 4, column ", error.ToString(), StringComparison.Ordinal);
        Assert.Null(parsed.Value);
    }

    [Fact]
    public void ReadRequests_DuplicateKey_IsASyntaxErrorWithItsLine()
    {
        const string text = "kind: requests\nrequests:\n  - id: r-1\n    id: r-2\n";

        var parsed = DefinitionReader.ReadRequests(text, "r.yaml");

        var error = Assert.Single(parsed.Errors);
        Assert.StartsWith("line 4, column", error.Path, StringComparison.Ordinal);
        Assert.Equal("duplicate key 'id'; give each key once in a mapping", error.Message);
    }

    [Theory]
    [InlineData("kind: agreement\nid: a\n", DefinitionKind.Agreement)]
    [InlineData("# comment\nkind: providers\n", DefinitionKind.Providers)]
    [InlineData("{\"kind\": \"requests\", \"requests\": []}", DefinitionKind.Requests)]
    public void DetectKind_TopLevelKind_IsRecognised(string text, DefinitionKind expected)
    {
        Assert.Equal(expected, DefinitionReader.DetectKind(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("id: a\n")]
    [InlineData("kind: scenario\n")]
    [InlineData("- kind: agreement\n")]
    [InlineData("kind: [agreement\n")]
    public void DetectKind_NoKnownKind_IsNull(string text)
    {
        Assert.Null(DefinitionReader.DetectKind(text));
    }

    [Fact]
    public void Validate_UnknownKind_SuggestsTheKindMeant()
    {
        var errors = DefinitionReader.Validate("kind: agrement\nid: a\n", "a.yaml");

        ErrorAt(errors, "kind", "unknown kind 'agrement'; did you mean 'agreement'?");
        Assert.Single(errors);
    }

    [Fact]
    public void Validate_MissingKind_NamesTheThreeKinds()
    {
        var errors = DefinitionReader.Validate("id: a\n", "a.yaml");

        ErrorAt(errors, "kind", "is missing; add 'kind: agreement', 'kind: providers' or 'kind: requests'");
    }

    [Fact]
    public void Validate_ProvidersFile_ReportsProvidersErrors()
    {
        var errors = DefinitionReader.Validate("kind: providers\nproviders:\n  - { id: azure, regions: eastus }\n", "p.yaml");

        ErrorAt(errors, "providers[0].regions", "must be a list");
        Assert.Single(errors);
    }

    [Fact]
    public void ReadAgreement_GivenAProvidersFile_SaysWhichKindItIs()
    {
        var parsed = DefinitionReader.ReadAgreement("kind: providers\nproviders: []\n", "p.yaml");

        ErrorAt(parsed, "kind", "is 'providers', but an agreement file was expected");
        Assert.Single(parsed.Errors);
    }

    [Fact]
    public void ReadRequests_WithoutKind_ReportsItAndReadsOn()
    {
        var parsed = DefinitionReader.ReadRequests("requests:\n  - { id: r-1 }\n", "r.yaml");

        ErrorAt(parsed, "kind", "is missing; add 'kind: requests'");
        ErrorAt(parsed, "requests[0].customer", "is missing");
    }

    [Fact]
    public void ReadProviders_EmptyText_SaysHowToStart()
    {
        var parsed = DefinitionReader.ReadProviders("# nothing yet\n", "p.yaml");

        ErrorAt(parsed, "(document)", "is empty; start the file with 'kind: agreement'");
    }

    [Fact]
    public void ReadProviders_TwoDocuments_AsksForOnePerFile()
    {
        var parsed = DefinitionReader.ReadProviders("kind: providers\nproviders: [{ id: a }]\n---\nkind: providers\nproviders: [{ id: b }]\n", "p.yaml");

        ErrorAt(parsed, "(document)", "holds 2 YAML documents");
    }

    [Fact]
    public void ReadProviders_RootIsAList_SaysItMustBeAMapping()
    {
        var parsed = DefinitionReader.ReadProviders("- kind: providers\n", "p.yaml");

        ErrorAt(parsed, "(document)", "must be a mapping that starts with 'kind: agreement'");
    }

    [Fact]
    public void ReadProviders_JsonWithTabs_ReadsLikeYaml()
    {
        const string json = "{\n\t\"kind\": \"providers\",\n\t\"providers\": [\n\t\t{ \"id\": \"azure\", \"prices\": [ { \"accelerator\": \"H100\", \"price\": \"12.29 USD\" } ] }\n\t]\n}\n";

        var file = Clean(DefinitionReader.ReadProviders(json, "p.json"));

        Assert.Equal("12.29 USD", file.Providers[0].Prices[0].Price.PerHour.ToString());
    }

    [Fact]
    public void DefinitionError_ToString_IsFilePathMessage()
    {
        Assert.Equal("f.yaml: a.b: c", new DefinitionError("f.yaml", "a.b", "c").ToString());
    }
}
