using System;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using ImageTools.Registry;
using Xunit;

namespace ImageTools.Tests.Registry
{
    /// <summary>A registry that takes the connection and never answers fails after the timeout (-TimeoutSec), naming the registry and the timeout.</summary>
    public class RegistryTimeoutTests
    {
        [Fact]
        public async Task A_registry_that_never_answers_fails_after_the_timeout_naming_the_registry_and_the_timeout()
        {
            using var proxy = new FaultProxy(RegistryServer.FreePort()) { NeverAnswer = true };
            using var client = new RegistryClient(proxy.Address, new RegistryClientOptions
            {
                Credentials = AnonymousCredentialSource.Instance,
                Retry = new RetryPolicy(2, TimeSpan.FromMilliseconds(50), jitter: 0),
                RequestTimeout = TimeSpan.FromSeconds(1),
            });
            var clock = Stopwatch.StartNew();

            var error = await Assert.ThrowsAsync<ImageToolsException>(() => client.GetManifestAsync("team/app", "1.0"));
            var later = await Assert.ThrowsAsync<ImageToolsException>(() => client.GetManifestAsync("team/other", "1.0"));

            // The HTTPS probe waits one timeout (a server that never finishes a handshake is taken for plain HTTP), then two attempts.
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed.TotalSeconds:0.0} s");
            Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2), $"gave up after {clock.Elapsed.TotalSeconds:0.0} s, before the timeout");
            Assert.Equal("RegistryTimeout", error.ErrorId);
            Assert.Equal(FaultKind.ResourceUnavailable, error.Kind);
            Assert.Contains($"The registry at {proxy.Address} did not answer GET /v2/team/app/manifests/1.0 within 1 s (2 attempts)", error.Message);
            Assert.Equal(RegistryFailureKind.Timeout, RegistryFailure.Of(error)!.Kind);
            // The run's circuit is open now: the next request is not sent, and says why.
            Assert.Equal("RegistryTimeout", later.ErrorId);
            Assert.StartsWith($"Not attempted: the registry at {proxy.Address} was found down", later.Message);
            Assert.Contains("within 1 s", later.Message);
        }
    }
}
