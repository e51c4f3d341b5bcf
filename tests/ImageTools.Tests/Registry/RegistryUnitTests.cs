using System;
using System.Linq;
using System.Text;
using ImageTools.References;
using ImageTools.Registry;
using Xunit;

namespace ImageTools.Tests.Registry
{
    public class AuthChallengeTests
    {
        [Fact]
        public void Parses_a_bearer_challenge_with_quoted_commas_in_the_scope()
        {
            var challenge = AuthChallenge.Parse(
                "Bearer realm=\"https://auth.example.org/token\",service=\"registry.example.org\",scope=\"repository:team/app:pull,push\",error=\"insufficient_scope\"").Single();

            Assert.True(challenge.IsBearer);
            Assert.Equal("https://auth.example.org/token", challenge.Realm);
            Assert.Equal("registry.example.org", challenge.Service);
            Assert.Equal("repository:team/app:pull,push", challenge.Scope);
            Assert.Equal("insufficient_scope", challenge.Error);
        }

        [Fact]
        public void Parses_several_challenges_spaces_escapes_and_unquoted_values()
        {
            var challenges = AuthChallenge.Parse(new[]
            {
                "Basic realm=\"Registry \\\"Realm\\\"\" , Bearer  realm = https://auth.example.org/token , service=svc",
                "bearer REALM=\"x\"",
            });

            Assert.Equal(3, challenges.Count);
            Assert.True(challenges[0].IsBasic);
            Assert.Equal("Registry \"Realm\"", challenges[0].Realm);
            Assert.True(challenges[1].IsBearer);
            Assert.Equal("https://auth.example.org/token", challenges[1].Realm);
            Assert.Equal("svc", challenges[1].Service);
            Assert.True(challenges[2].IsBearer);
            Assert.Equal("x", challenges[2].Realm);
        }

        [Theory]
        [InlineData("")]
        [InlineData(",,,")]
        [InlineData("Bearer realm=\"unterminated")]
        public void Survives_malformed_headers(string header) => AuthChallenge.Parse(header);
    }

    public class RetryPolicyTests
    {
        [Fact]
        public void Waits_grow_exponentially_up_to_the_cap_and_honour_Retry_After()
        {
            var policy = new RetryPolicy(5, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(300), jitter: 0);

            Assert.Equal(TimeSpan.FromMilliseconds(100), policy.DelayAfter(1));
            Assert.Equal(TimeSpan.FromMilliseconds(200), policy.DelayAfter(2));
            Assert.Equal(TimeSpan.FromMilliseconds(300), policy.DelayAfter(3));
            Assert.Equal(TimeSpan.FromSeconds(2), policy.DelayAfter(1, TimeSpan.FromSeconds(2)));
            Assert.Equal(TimeSpan.FromSeconds(60), policy.DelayAfter(1, TimeSpan.FromHours(1)));
        }

        [Fact]
        public void Jitter_stays_within_its_fraction()
        {
            var policy = new RetryPolicy(3, TimeSpan.FromMilliseconds(1000), jitter: 0.2);
            foreach (var _ in Enumerable.Range(0, 200))
            {
                var delay = policy.DelayAfter(1).TotalMilliseconds;
                Assert.InRange(delay, 800, 1200);
            }
        }

        [Fact]
        public async System.Threading.Tasks.Task Stops_after_the_configured_attempts_and_throws_the_final_error()
        {
            var policy = new RetryPolicy(3, TimeSpan.FromMilliseconds(1), jitter: 0);
            var attempts = 0;
            var retries = 0;

            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => policy.ExecuteAsync<int>((n, _) =>
            {
                attempts++;
                throw new TransientFailure("flaky", new InvalidOperationException("final"));
            }, (_, _, _) => retries++, default));

            Assert.Equal("final", error.Message);
            Assert.Equal(3, attempts);
            Assert.Equal(2, retries);
        }
    }

    public class RegistryHelpersTests
    {
        [Theory]
        [InlineData("localhost:5000", true)]
        [InlineData("127.0.0.1:5000", true)]
        [InlineData("127.1.2.3", true)]
        [InlineData("[::1]:5000", true)]
        [InlineData("registry.localhost", true)]
        [InlineData("registry.example.org", false)]
        [InlineData("10.0.0.1:5000", false)]
        public void Only_loopback_hosts_may_use_plain_HTTP_unless_named_insecure(string registry, bool expected)
        {
            Assert.Equal(expected, RegistryTransport.AllowsPlainHttp(registry, Array.Empty<string>()));
            Assert.True(RegistryTransport.AllowsPlainHttp(registry, new[] { registry }));
        }

        [Fact]
        public void Credentials_never_print_their_secret()
        {
            var credential = RegistryCredential.FromPassword("bob", "hunter2-secret", "-Credential");
            var token = RegistryCredential.FromIdentityToken("<token>", "refresh-secret", "helper");

            Assert.DoesNotContain("hunter2-secret", credential.ToString());
            Assert.DoesNotContain("hunter2-secret", new ExplicitCredentialSource("bob", "hunter2-secret").ToString());
            Assert.DoesNotContain("refresh-secret", token.ToString());
            Assert.Null(token.UserName);
        }

        [Theory]
        [InlineData("https://index.docker.io/v1/", "index.docker.io")]
        [InlineData("http://Registry.Example.org:5000/v2/", "registry.example.org:5000")]
        [InlineData("localhost:5000", "localhost:5000")]
        public void Docker_config_keys_reduce_to_host_and_port(string key, string expected) =>
            Assert.Equal(expected, DockerConfigCredentialSource.Hostname(key));

        [Fact]
        public void A_malformed_docker_config_names_the_file()
        {
            var directory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "imagetools-dockercfg-" + Guid.NewGuid().ToString("N"));
            System.IO.Directory.CreateDirectory(directory);
            try
            {
                System.IO.File.WriteAllText(System.IO.Path.Combine(directory, "config.json"), "{\"auths\": {,}}");
                var error = Assert.Throws<ImageToolsException>(() =>
                    new DockerConfigCredentialSource(directory).GetAsync("localhost:5000", null, default).GetAwaiter().GetResult());
                Assert.Equal("DockerConfigInvalid", error.ErrorId);
                Assert.EndsWith("config.json", error.FilePath);

                var bad = Convert.ToBase64String(Encoding.UTF8.GetBytes("no-colon-here"));
                System.IO.File.WriteAllText(System.IO.Path.Combine(directory, "config.json"), $"{{\"auths\":{{\"localhost:5000\":{{\"auth\":\"{bad}\"}}}}}}");
                error = Assert.Throws<ImageToolsException>(() =>
                    new DockerConfigCredentialSource(directory).GetAsync("localhost:5000", null, default).GetAwaiter().GetResult());
                Assert.DoesNotContain("no-colon-here", error.Message);
            }
            finally
            {
                System.IO.Directory.Delete(directory, true);
            }
        }

        [Fact]
        public void Digests_are_checked_by_algorithm_and_form()
        {
            var content = Encoding.UTF8.GetBytes("hello");
            var digest = Digests.Sha256(content);

            Assert.Equal("sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", digest);
            Assert.True(Digests.Matches(digest, content));
            Assert.False(Digests.IsValid("sha256:2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824"));
            Assert.False(Digests.IsValid("md5:abc"));
            Assert.True(Digests.Matches(Digests.ComputeLike("sha512:" + new string('0', 128), content), content));
        }
    }
}
