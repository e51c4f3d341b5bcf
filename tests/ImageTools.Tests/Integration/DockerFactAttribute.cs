using Xunit;

namespace ImageTools.Tests.Integration
{
    /// <summary>
    /// A test that needs the real Docker engine and registry. It is skipped only on a developer
    /// machine without the services; with CI=true it always runs, so missing services fail loudly
    /// (DockerServices.Require) instead of passing as skipped.
    /// </summary>
    public sealed class DockerFactAttribute : FactAttribute
    {
        public DockerFactAttribute()
        {
            if (!DockerServices.Configured && !DockerServices.InCi) Skip = DockerServices.NotStartedMessage;
        }
    }

    /// <summary>The theory form of <see cref="DockerFactAttribute"/>.</summary>
    public sealed class DockerTheoryAttribute : TheoryAttribute
    {
        public DockerTheoryAttribute()
        {
            if (!DockerServices.Configured && !DockerServices.InCi) Skip = DockerServices.NotStartedMessage;
        }
    }

    /// <summary>Integration tests share one engine: run them one class at a time.</summary>
    [CollectionDefinition(Name, DisableParallelization = true)]
    public sealed class DockerCollection
    {
        public const string Name = "Docker engine";
    }
}
