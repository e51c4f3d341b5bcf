using Xunit;

namespace ImageTools.Tests.Integration
{
    /// <summary>
    /// A test that needs the real Docker engine and registry. It is skipped only where the services
    /// are missing and not promised (<see cref="ServicePromise"/>); where they are promised it always
    /// runs, so missing services fail loudly (DockerServices.Require) instead of passing as skipped.
    /// </summary>
    public sealed class DockerFactAttribute : FactAttribute
    {
        public DockerFactAttribute()
        {
            Skip = ServicePromise.SkipUnless(DockerServices.Configured, DockerServices.NotStartedMessage);
        }
    }

    /// <summary>The theory form of <see cref="DockerFactAttribute"/>.</summary>
    public sealed class DockerTheoryAttribute : TheoryAttribute
    {
        public DockerTheoryAttribute()
        {
            Skip = ServicePromise.SkipUnless(DockerServices.Configured, DockerServices.NotStartedMessage);
        }
    }

    /// <summary>Integration tests share one engine: run them one class at a time.</summary>
    [CollectionDefinition(Name, DisableParallelization = true)]
    public sealed class DockerCollection
    {
        public const string Name = "Docker engine";
    }
}
