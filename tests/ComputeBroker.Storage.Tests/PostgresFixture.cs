using ComputeBroker.Testing;

namespace ComputeBroker.Storage.Tests;

/// <summary>The storage tests that share one PostgreSQL server (<see cref="PostgresFixture"/>).</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}
