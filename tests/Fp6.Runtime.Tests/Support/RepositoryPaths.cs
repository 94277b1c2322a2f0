namespace Fp6.Runtime.Tests.Support;

/// <summary>Files of the repository itself (the embedded model, the quality set), found from the test's output folder.</summary>
internal static class RepositoryPaths
{
    private static readonly Lazy<string> s_root = new(() =>
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Fp6.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No Fp6.slnx above {AppContext.BaseDirectory}.");
    });

    public static string Root => s_root.Value;

    public static string EmbeddedModel => Path.Combine(Root, "models", "fp6-tiny-en");

    public static string Quality(string file) => Path.Combine(Root, "tests", "data", "quality", file);
}
