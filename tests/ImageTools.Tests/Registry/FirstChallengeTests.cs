using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Registry;
using Xunit;

namespace ImageTools.Tests.Registry
{
    /// <summary>
    /// Parallel look-ups on a new client meet the registry's challenge once, not once per look-up in flight:
    /// the first request goes alone until the challenge is known (or the /v2/ probe already named it), and
    /// the rest carry authorization from their first attempt (issue 16: one round trip per image is the floor).
    /// </summary>
    public class FirstChallengeTests
    {
        /// <summary>A Basic-auth registry in memory: /v2/ answers as <paramref name="pingAnswer"/> says; manifests need the password.</summary>
        private sealed class BasicRegistry : HttpMessageHandler
        {
            private readonly bool _challengeOnPing;
            public readonly ConcurrentQueue<string> Answers = new ConcurrentQueue<string>();
            public BasicRegistry(bool challengeOnPing) => _challengeOnPing = challengeOnPing;

            protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                await Task.Delay(20, cancellationToken).ConfigureAwait(false);   // let look-ups overlap
                var path = request.RequestUri!.AbsolutePath;
                var authorized = request.Headers.Authorization?.ToString() == "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:secret"));
                HttpResponseMessage answer;
                if (!authorized && (path != "/v2/" || _challengeOnPing))
                {
                    answer = new HttpResponseMessage(HttpStatusCode.Unauthorized) { Content = new StringContent("{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}") };
                    answer.Headers.WwwAuthenticate.ParseAdd("Basic realm=\"test\"");
                }
                else if (path == "/v2/") answer = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("{}") };
                else answer = new HttpResponseMessage(HttpStatusCode.NotFound) { Content = new StringContent("{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\"}]}") };
                Answers.Enqueue($"{request.Method} {path} {(int)answer.StatusCode}");
                return answer;
            }
        }

        [Theory]
        [InlineData(false)]   // /v2/ open, manifests challenged: the first look-up meets the challenge, the others wait for it
        [InlineData(true)]    // /v2/ challenged: the probe names it and no look-up meets a 401
        public async Task Thirty_two_parallel_lookups_meet_the_challenge_at_most_once(bool challengeOnPing)
        {
            var registry = new BasicRegistry(challengeOnPing);
            using var client = new RegistryClient("127.0.0.1:5998", new RegistryClientOptions
            {
                Credentials = new ExplicitCredentialSource("alice", "secret"),
                Retry = RetryPolicy.None,
                WrapHandler = _ => registry,
            });

            var found = await Task.WhenAll(Enumerable.Range(0, 32).Select(i => Task.Run(() => client.GetManifestAsync("team/app" + i, "1.0"))));

            Assert.All(found, Assert.Null);
            var answers = registry.Answers.ToList();
            var manifestChallenges = answers.Count(a => a.Contains("/manifests/") && a.EndsWith(" 401", StringComparison.Ordinal));
            Assert.Equal(challengeOnPing ? 0 : 1, manifestChallenges);
            Assert.Equal(32, answers.Count(a => a.Contains("/manifests/") && a.EndsWith(" 404", StringComparison.Ordinal)));
            Assert.Equal(1, answers.Count(a => a.StartsWith("GET /v2/ ", StringComparison.Ordinal)));
        }
    }
}
