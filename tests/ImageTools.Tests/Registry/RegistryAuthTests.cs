using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using ImageTools.Registry;
using Xunit;

namespace ImageTools.Tests.Registry
{
    public sealed class AuthRegistriesFixture : IDisposable
    {
        private readonly Lazy<RegistryServer> _basic = new Lazy<RegistryServer>(() => new RegistryServer(RegistryMode.Basic));
        private readonly Lazy<RegistryServer> _token = new Lazy<RegistryServer>(() => new RegistryServer(RegistryMode.Token));
        private readonly Lazy<RegistryServer> _tls = new Lazy<RegistryServer>(() => new RegistryServer(RegistryMode.Tls));
        public RegistryServer Basic => _basic.Value;
        public RegistryServer Token => _token.Value;
        public RegistryServer Tls => _tls.Value;

        public void Dispose()
        {
            foreach (var server in new[] { _basic, _token, _tls })
                if (server.IsValueCreated) server.Value.Dispose();
        }
    }

    /// <summary>Basic, bearer-token and TLS registries; credentials from -Credential, docker config and helpers; no secret in any message.</summary>
    public class RegistryAuthTests : IClassFixture<AuthRegistriesFixture>, IDisposable
    {
        private readonly AuthRegistriesFixture _fixture;
        private readonly RecordingProgress _progress = new RecordingProgress();
        private readonly string _temp = Path.Combine(Path.GetTempPath(), "imagetools-auth-" + Guid.NewGuid().ToString("N"));

        public RegistryAuthTests(AuthRegistriesFixture fixture)
        {
            _fixture = fixture;
            Directory.CreateDirectory(_temp);
        }

        public void Dispose() => Directory.Delete(_temp, recursive: true);

        private RegistryClient Client(RegistryServer server, IRegistryCredentialSource credentials, out CountingHandler counter, string? caBundle = null)
        {
            CountingHandler? created = null;
            var client = new RegistryClient(server.Address, new RegistryClientOptions
            {
                Credentials = credentials,
                CaBundlePath = caBundle,
                Progress = _progress,
                Retry = new RetryPolicy(3, TimeSpan.FromMilliseconds(20)),
                WrapHandler = inner => created = new CountingHandler(inner),
            });
            counter = created!;
            return client;
        }

        /// <summary>Every message the run produced: events, exception messages and ToString, credential descriptions.</summary>
        private void AssertSecretNowhere(string secret, params object?[] more)
        {
            var texts = _progress.Messages.Concat(more.Where(m => m != null).Select(m => m!.ToString()!)).ToList();
            Assert.NotEmpty(texts);
            foreach (var text in texts) Assert.DoesNotContain(secret, text);
            var encoded = Convert.ToBase64String(Encoding.UTF8.GetBytes(RegistryServer.User + ":" + secret));
            foreach (var text in texts) Assert.DoesNotContain(encoded, text);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [RegistryFact]
        public async Task Basic_auth_with_the_right_password_pushes_and_pulls()
        {
            var credentials = new ExplicitCredentialSource(RegistryServer.User, RegistryServer.Password);
            using var client = Client(_fixture.Basic, credentials, out var counter);

            var ping = await client.PingAsync();
            var pushed = await TestImages.PushAsync(client, "team/basic", "1");
            var manifest = await client.GetManifestAsync("team/basic", "1");

            Assert.True(ping.Authenticated);
            Assert.Equal("Basic", ping.AuthScheme);
            Assert.Equal(pushed.ManifestDigest, manifest!.Digest);
            Assert.All(counter.AuthorizationHeaders, h => Assert.StartsWith("Basic ", h));
            Assert.Contains(_progress.Events, e => e.Kind == RegistryEventKind.Credentials && e.Message.Contains("user 'alice' from -Credential"));
            AssertSecretNowhere(RegistryServer.Password, credentials, client);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [RegistryFact]
        public async Task Basic_auth_with_a_wrong_password_is_a_clear_error_without_the_password()
        {
            const string wrong = "Wr0ng-Pa55word-never-print";
            var credentials = new ExplicitCredentialSource(RegistryServer.User, wrong);
            using var client = Client(_fixture.Basic, credentials, out var counter);

            var error = await Assert.ThrowsAsync<ImageToolsException>(() => client.GetManifestAsync("team/basic", "1"));

            Assert.Equal("RegistryAuthenticationFailed", error.ErrorId);
            Assert.Equal(FaultKind.AuthenticationError, error.Kind);
            Assert.Contains($"check the user name and password/token for {_fixture.Basic.Address}", error.Message, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("alice", error.Message);
            // The challenge, then one try with the password: a 401 is never retried.
            Assert.Equal(2, counter.Requests.Count(r => r.Contains("/manifests/")));
            AssertSecretNowhere(wrong, error, error.ToString(), error.InnerException, credentials);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [RegistryFact]
        public async Task Basic_auth_without_credentials_says_how_to_give_them()
        {
            using var client = Client(_fixture.Basic, AnonymousCredentialSource.Instance, out _);

            var error = await Assert.ThrowsAsync<ImageToolsException>(() => client.PingAsync());

            Assert.Equal("RegistryCredentialsRequired", error.ErrorId);
            Assert.Contains("-Credential", error.Message);
            Assert.Contains("docker login", error.Message);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [RegistryFact]
        public async Task Bearer_tokens_are_requested_per_scope_and_reused()
        {
            var tokens = _fixture.Token.Tokens!;
            var credentials = new ExplicitCredentialSource(RegistryServer.User, RegistryServer.Password);
            using var client = Client(_fixture.Token, credentials, out var counter);

            var ping = await client.PingAsync();
            var first = await TestImages.PushAsync(client, "team/one", "1");
            var second = await TestImages.PushAsync(client, "team/two", "1");
            var requestsAfterPush = client.TokenRequests;
            Assert.NotNull(await client.GetManifestAsync("team/one", "1"));
            Assert.NotNull(await client.GetManifestAsync("team/one", "1"));
            Assert.NotNull(await client.GetManifestAsync("team/two", "1"));
            Assert.True(await client.MountBlobAsync("team/three", first.ConfigDigest, "team/one"));

            Assert.True(ping.Authenticated);
            Assert.Equal("Bearer", ping.AuthScheme);
            Assert.Contains(tokens.Requests, r => r == "GET alice repository:team/one:pull,push");
            Assert.Contains(tokens.Requests, r => r == "GET alice repository:team/two:pull,push");
            Assert.Contains(tokens.Requests, r => r == "GET alice repository:team/one:pull");
            Assert.Contains(tokens.Requests, r => r.StartsWith("GET alice ") && r.Contains("repository:team/three:pull,push") && r.Contains("repository:team/one:pull"));
            // The second pull of team/one reused its token; team/two's pull needed a new scope: one token each.
            Assert.Equal(requestsAfterPush + 3, client.TokenRequests);
            Assert.All(counter.AuthorizationHeaders.Where(h => h.StartsWith("Bearer")), h => Assert.DoesNotContain(RegistryServer.Password, h));
            AssertSecretNowhere(RegistryServer.Password, credentials, client);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [RegistryFact]
        public async Task Anonymous_bearer_tokens_pull_but_cannot_push()
        {
            using (var alice = Client(_fixture.Token, new ExplicitCredentialSource(RegistryServer.User, RegistryServer.Password), out _))
                await TestImages.PushAsync(alice, "team/public", "1");
            using var client = Client(_fixture.Token, AnonymousCredentialSource.Instance, out _);

            Assert.NotNull(await client.GetManifestAsync("team/public", "1"));
            var error = await Assert.ThrowsAsync<ImageToolsException>(() => client.UploadBlobAsync("team/public", new byte[] { 1 }));

            Assert.Contains(_fixture.Token.Tokens!.Requests, r => r == "GET anonymous repository:team/public:pull");
            Assert.Equal(FaultKind.AuthenticationError, error.Kind);
            Assert.Equal("RegistryCredentialsRequired", error.ErrorId);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [RegistryFact]
        public async Task A_refused_token_request_is_an_authentication_error_without_the_password()
        {
            const string wrong = "Token-Wr0ng-Secret-never-print";
            var credentials = new ExplicitCredentialSource(RegistryServer.User, wrong);
            using var client = Client(_fixture.Token, credentials, out _);

            var error = await Assert.ThrowsAsync<ImageToolsException>(() => client.GetManifestAsync("team/one", "1"));

            Assert.Equal("RegistryAuthenticationFailed", error.ErrorId);
            Assert.Contains("Check the user name and password/token", error.Message);
            AssertSecretNowhere(wrong, error, error.ToString(), credentials);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [RegistryFact]
        public async Task An_identity_token_from_docker_config_is_exchanged_as_a_refresh_token()
        {
            var tokens = _fixture.Token.Tokens!;
            WriteDockerConfig($"{{\"auths\":{{\"{_fixture.Token.Address}\":{{\"auth\":\"\",\"identitytoken\":\"{tokens.RefreshToken}\"}}}}}}");
            using var client = Client(_fixture.Token, new DockerConfigCredentialSource(_temp), out _);

            await TestImages.PushAsync(client, "team/oauth", "1");

            Assert.Contains(tokens.Requests, r => r == "POST alice repository:team/oauth:pull,push");
            AssertSecretNowhere(tokens.RefreshToken);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [RegistryFact]
        public async Task Docker_config_auths_entry_logs_in_with_basic_auth()
        {
            var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes(RegistryServer.User + ":" + RegistryServer.Password));
            WriteDockerConfig($"{{\"auths\":{{\"https://{_fixture.Basic.Address}/v1/\":{{\"auth\":\"{auth}\"}}}}}}");
            using var client = Client(_fixture.Basic, new DockerConfigCredentialSource(_temp), out _);

            var ping = await client.PingAsync();

            Assert.True(ping.Authenticated);
            Assert.Contains(_progress.Events, e => e.Kind == RegistryEventKind.Credentials && e.Message.Contains("(auths)"));
            AssertSecretNowhere(RegistryServer.Password);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [RegistryFact]
        public async Task A_credential_helper_named_in_credHelpers_supplies_the_login()
        {
            var bin = WriteHelper();
            WriteDockerConfig($"{{\"credHelpers\":{{\"{_fixture.Basic.Address}\":\"imagetoolstest\"}},\"credsStore\":\"imagetools-missing\"}}");
            var source = new DockerConfigCredentialSource(_temp, helperSearchPath: bin + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH"));
            using var client = Client(_fixture.Basic, source, out _);

            var ping = await client.PingAsync();

            Assert.True(ping.Authenticated);
            Assert.Contains(_progress.Events, e => e.Kind == RegistryEventKind.Credentials && e.Message.Contains("docker-credential-imagetoolstest"));
            Assert.Equal(_fixture.Basic.Address, File.ReadAllText(Path.Combine(_temp, "helper-input")).Trim());
            AssertSecretNowhere(RegistryServer.Password, source);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [RegistryFact]
        public async Task A_helper_without_credentials_or_missing_means_anonymous_with_a_note()
        {
            var bin = WriteHelper();
            WriteDockerConfig("{\"credsStore\":\"imagetoolstest\"}");
            var source = new DockerConfigCredentialSource(_temp, helperSearchPath: bin);

            Assert.Null(await source.GetAsync("other.example:5000", _progress, default));
            Assert.Contains(_progress.Events, e => e.Message.Contains("has no credentials for other.example:5000"));

            WriteDockerConfig("{\"credsStore\":\"imagetools-missing\"}");
            Assert.Null(await source.GetAsync("other.example:5000", _progress, default));
            Assert.Contains(_progress.Events, e => e.Kind == RegistryEventKind.Warning && e.Message.Contains("docker-credential-imagetools-missing is not on PATH"));

            Assert.Equal("https://index.docker.io/v1/", DockerConfigCredentialSource.KeyFor("docker.io"));
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [RegistryFact]
        public async Task TLS_with_the_CA_bundle_works_and_without_it_is_a_clear_TLS_error()
        {
            using (var trusted = Client(_fixture.Tls, AnonymousCredentialSource.Instance, out _, _fixture.Tls.CaBundlePath))
            {
                var ping = await trusted.PingAsync();
                Assert.Equal("https", ping.BaseUri.Scheme);
                await TestImages.PushAsync(trusted, "team/tls", "1");
                Assert.NotNull(await trusted.HeadManifestAsync("team/tls", "1"));
            }

            using var untrusted = Client(_fixture.Tls, AnonymousCredentialSource.Instance, out var counter);
            var error = await Assert.ThrowsAsync<ImageToolsException>(() => untrusted.PingAsync());

            Assert.Equal("RegistryTlsFailure", error.ErrorId);
            Assert.Contains(_fixture.Tls.Address, error.Message);
            Assert.Contains("CA bundle", error.Message);
            Assert.Contains("insecure_registries", error.Message);
            Assert.Equal(1, counter.Count); // a refused certificate is not retried and never falls back to plain HTTP

            var otherCa = Path.Combine(_temp, "other-ca.pem");
            using (var ca = TestCertificates.CreateCa("Some other CA")) File.WriteAllText(otherCa, TestCertificates.Pem(ca));
            using var wrongBundle = Client(_fixture.Tls, AnonymousCredentialSource.Instance, out _, otherCa);
            var wrong = await Assert.ThrowsAsync<ImageToolsException>(() => wrongBundle.PingAsync());
            Assert.Equal("RegistryTlsFailure", wrong.ErrorId);
            Assert.Contains("does not chain to a certificate in", wrong.Message);
        }

        private void WriteDockerConfig(string json) => File.WriteAllText(Path.Combine(_temp, "config.json"), json);

        /// <summary>docker-credential-imagetoolstest: alice for 127.0.0.1 registries, "not found" for others.</summary>
        private string WriteHelper()
        {
            var bin = Path.Combine(_temp, "bin");
            Directory.CreateDirectory(bin);
            var script = Path.Combine(bin, "docker-credential-imagetoolstest");
            File.WriteAllText(script,
                "#!/bin/sh\n" +
                "[ \"$1\" = get ] || exit 2\n" +
                "read -r server\n" +
                $"printf '%s\\n' \"$server\" > '{_temp}/helper-input'\n" +
                "case \"$server\" in\n" +
                $"  127.0.0.1:*) printf '{{\"ServerURL\":\"%s\",\"Username\":\"{RegistryServer.User}\",\"Secret\":\"{RegistryServer.Password}\"}}\\n' \"$server\" ;;\n" +
                "  *) echo 'credentials not found in native keychain'; exit 1 ;;\n" +
                "esac\n");
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            return bin;
        }
    }
}
