using System;
using System.Diagnostics;
using System.Threading.Tasks;
using ImageTools.Planning;
using ImageTools.References;
using ImageTools.Registry;
using Xunit;

namespace ImageTools.Tests.Planning
{
    /// <summary>An external base on a host that does not resolve: the rebuild check names the host and DNS, at once.</summary>
    public class ExternalBaseDnsTests
    {
        [Fact]
        public async Task A_base_on_an_unknown_host_is_named_with_its_host_and_not_retried()
        {
            // .invalid never resolves (RFC 6761), so no query reaches a real registry.
            using var source = new RegistryImageSource(new RegistryClientOptions { Credentials = AnonymousCredentialSource.Instance, Retry = RetryPolicy.Default });
            var clock = Stopwatch.StartNew();

            var error = await Assert.ThrowsAsync<ImageToolsException>(() => source.FindAsync(ImageReference.Parse("bases.imagetools.invalid/debian:bookworm"), null, default));

            Assert.Equal("RegistryUnreachable", error.ErrorId);
            Assert.Equal(RegistryFailureKind.UnknownHost, RegistryFailure.Of(error)!.Kind);
            Assert.Contains("The registry host bases.imagetools.invalid is not known", error.Message);
            Assert.Contains("DNS", error.Message);
            // Not retried: the default policy's waits alone are 3.5 s.
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"took {clock.Elapsed.TotalSeconds:0.0} s");
        }
    }
}
