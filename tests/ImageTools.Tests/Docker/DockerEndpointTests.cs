using System.Collections.Generic;
using System.IO;
using ImageTools.Docker;
using Xunit;

namespace ImageTools.Tests.Docker
{
    public class DockerEndpointTests
    {
        private static DockerEndpoint Resolve(TestTree home, Dictionary<string, string?> environment, bool windows = false) =>
            DockerEndpoint.Resolve(name => environment.TryGetValue(name, out var value) ? value : null, home.Root, windows);

        private static void WriteContext(TestTree home, string name, string host, bool tls = false)
        {
            var id = DockerEndpoint.ContextId(name);
            home.Write($".docker/contexts/meta/{id}/meta.json",
                "{\"Name\":\"" + name + "\",\"Metadata\":{},\"Endpoints\":{\"docker\":{\"Host\":\"" + host + "\",\"SkipTLSVerify\":false}}}");
            if (tls) home.Write($".docker/contexts/tls/{id}/docker/ca.pem", "x");
        }

        [Fact]
        public void The_platform_default_is_used_when_nothing_is_set()
        {
            using var home = new TestTree();
            Assert.Equal("unix:///var/run/docker.sock", Resolve(home, new()).Host.OriginalString);
            Assert.Equal("npipe:////./pipe/docker_engine", Resolve(home, new(), windows: true).Host.OriginalString);
        }

        [Theory]
        [InlineData("unix:///tmp/x/docker.sock", "unix")]
        [InlineData("npipe:////./pipe/docker_engine", "npipe")]
        [InlineData("tcp://127.0.0.1:2375", "tcp")]
        [InlineData("127.0.0.1:2375", "tcp")]
        public void DOCKER_HOST_wins_over_contexts(string host, string scheme)
        {
            using var home = new TestTree();
            WriteContext(home, "other", "unix:///other.sock");
            home.Write(".docker/config.json", "{\"currentContext\":\"other\"}");
            var endpoint = Resolve(home, new() { ["DOCKER_HOST"] = host, ["DOCKER_CONTEXT"] = "other" });
            Assert.Equal(scheme, endpoint.Host.Scheme);
            Assert.Equal("DOCKER_HOST", endpoint.Source);
            Assert.False(endpoint.Tls);
        }

        [Fact]
        public void DOCKER_TLS_VERIFY_turns_on_tls_with_certificates_from_DOCKER_CERT_PATH_or_the_config_folder()
        {
            using var home = new TestTree();
            var verified = Resolve(home, new() { ["DOCKER_HOST"] = "tcp://127.0.0.1:2376", ["DOCKER_TLS_VERIFY"] = "1", ["DOCKER_CERT_PATH"] = "/certs" });
            Assert.True(verified.Tls);
            Assert.True(verified.TlsVerify);
            Assert.Equal("/certs", verified.CertificateDirectory);
            var fromConfig = Resolve(home, new() { ["DOCKER_HOST"] = "tcp://127.0.0.1:2376", ["DOCKER_TLS_VERIFY"] = "1" });
            Assert.Equal(Path.Combine(home.Root, ".docker"), fromConfig.CertificateDirectory);
        }

        [Fact]
        public void DOCKER_CONTEXT_wins_over_the_current_context()
        {
            using var home = new TestTree();
            WriteContext(home, "chosen", "unix:///chosen.sock");
            WriteContext(home, "current", "unix:///current.sock");
            home.Write(".docker/config.json", "{\"currentContext\":\"current\"}");
            var endpoint = Resolve(home, new() { ["DOCKER_CONTEXT"] = "chosen" });
            Assert.Equal("unix:///chosen.sock", endpoint.Host.OriginalString);
            Assert.Equal("context 'chosen'", endpoint.Source);
        }

        [Fact]
        public void The_current_context_of_the_config_is_used_and_its_tls_folder_turns_on_tls()
        {
            using var home = new TestTree();
            WriteContext(home, "remote", "tcp://127.0.0.1:2376", tls: true);
            home.Write(".docker/config.json", "{\"auths\":{},\"currentContext\":\"remote\"}");
            var endpoint = Resolve(home, new());
            Assert.Equal("tcp://127.0.0.1:2376", endpoint.Host.OriginalString);
            Assert.True(endpoint.Tls);
            Assert.True(endpoint.TlsVerify);
        }

        [Fact]
        public void DOCKER_CONFIG_moves_the_config_and_contexts()
        {
            using var home = new TestTree();
            var id = DockerEndpoint.ContextId("moved");
            home.Write($"elsewhere/contexts/meta/{id}/meta.json", "{\"Endpoints\":{\"docker\":{\"Host\":\"unix:///moved.sock\"}}}");
            home.Write("elsewhere/config.json", "{\"currentContext\":\"moved\"}");
            Assert.Equal("unix:///moved.sock", Resolve(home, new() { ["DOCKER_CONFIG"] = home.PathOf("elsewhere") }).Host.OriginalString);
        }

        [Fact]
        public void The_context_named_default_is_the_platform_default()
        {
            using var home = new TestTree();
            Assert.Equal(DockerEndpoint.UnixDefault, Resolve(home, new() { ["DOCKER_CONTEXT"] = "default" }).Host.OriginalString);
        }

        [Fact]
        public void The_context_id_is_the_sha256_of_its_name_as_the_cli_stores_it()
        {
            // sha256("default"), as `docker context inspect` would place it.
            Assert.Equal("37a8eec1ce19687d132fe29051dca629d164e2c4958ba141d5f4133a33f0688f", DockerEndpoint.ContextId("default"));
        }

        [Fact]
        public void A_missing_context_is_a_clear_error()
        {
            using var home = new TestTree();
            var error = Assert.Throws<ImageToolsException>(() => Resolve(home, new() { ["DOCKER_CONTEXT"] = "gone" }));
            Assert.Equal("DockerContextNotFound", error.ErrorId);
            Assert.Contains("'gone'", error.Message);
        }

        [Fact]
        public void A_malformed_DOCKER_HOST_is_a_clear_error()
        {
            using var home = new TestTree();
            var error = Assert.Throws<ImageToolsException>(() => Resolve(home, new() { ["DOCKER_HOST"] = "ftp://x" }));
            Assert.Equal("DockerHostInvalid", error.ErrorId);
        }
    }
}
