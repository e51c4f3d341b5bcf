namespace ImageTools.Tests
{
    /// <summary>
    /// The xunit trait that tells the tiers apart. A test is Integration when it needs a Docker engine,
    /// the registry program, a tmpfs (root) or a program of this repository's build run as a child
    /// process; everything else is the fast tier:
    /// <c>dotnet test tests/ImageTools.Tests --filter "Category!=Integration"</c>.
    /// TierTests keeps the rule: every service test carries the trait.
    /// </summary>
    public static class TestCategory
    {
        public const string Name = "Category";
        public const string Integration = "Integration";
    }
}
