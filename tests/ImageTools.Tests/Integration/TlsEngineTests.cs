using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Docker;
using ImageTools.Docker.Api;
using ImageTools.Engines;
using ImageTools.Processes;
using ImageTools.Registry;
using Xunit;

namespace ImageTools.Tests.Integration
{
    /// <summary>
    /// A third dockerd (own data root, exec root, pidfile and socket) that listens on 127.0.0.1 with
    /// --tlsverify, and certificates made with openssl: a CA that signed the engine's and one client's
    /// certificate, and a second CA with a client certificate the engine must refuse.
    /// </summary>
    public sealed class TlsEngine : IDisposable
    {
        private readonly Process? _daemon;

        public TlsEngine()
        {
            if (!DockerServices.Configured) return;
            State = Path.Combine("/tmp", "itt-" + Guid.NewGuid().ToString("N").Substring(0, 8));
            Directory.CreateDirectory(State);
            MakeCertificates();
            Port = FreePort();
            var start = new ProcessStartInfo("dockerd") { UseShellExecute = false, RedirectStandardInput = true };
            foreach (var argument in new[]
            {
                "--data-root", Path.Combine(State, "data"), "--exec-root", Path.Combine(State, "exec"), "--pidfile", Path.Combine(State, "dockerd.pid"),
                "--storage-driver", "vfs", "--iptables=false", "--ip-masq=false", "--bridge=none", "--log-level", "warn",
                "-H", "unix://" + Path.Combine(State, "docker.sock"), "-H", $"tcp://127.0.0.1:{Port}",
                "--tlsverify", "--tlscacert", Path.Combine(State, "ca", "ca.pem"),
                "--tlscert", Path.Combine(State, "server", "cert.pem"), "--tlskey", Path.Combine(State, "server", "key.pem"),
            }) start.ArgumentList.Add(argument);
            _daemon = Process.Start(start) ?? throw new InvalidOperationException("dockerd did not start.");
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!Answers())
            {
                if (_daemon.HasExited) throw new InvalidOperationException($"The TLS dockerd exited with {_daemon.ExitCode} while starting.");
                if (DateTime.UtcNow > deadline) throw new InvalidOperationException("The TLS dockerd did not answer within 60 s.");
                Thread.Sleep(250);
            }
        }

        public string State { get; } = "";
        public int Port { get; }
        public string Host => $"tcp://127.0.0.1:{Port}";
        /// <summary>ca.pem, cert.pem and key.pem of the client the engine trusts.</summary>
        public string GoodClient => Path.Combine(State, "client");
        /// <summary>The same names, signed by a CA the engine does not know (ca.pem is the engine's, so the server is trusted).</summary>
        public string StrangerClient => Path.Combine(State, "stranger");

        private bool Answers()
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var outcome = ProcessRunner.RunAsync("docker", new[] { "version" }, deadline.Token,
                environment: new Dictionary<string, string?> { ["DOCKER_HOST"] = "unix://" + Path.Combine(State, "docker.sock") }).GetAwaiter().GetResult();
            return outcome.ExitCode == 0;
        }

        private static int FreePort()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            return port;
        }

        private void OpenSsl(params string[] arguments)
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            var outcome = ProcessRunner.RunAsync("openssl", arguments, deadline.Token, workingDirectory: State).GetAwaiter().GetResult();
            if (outcome.ExitCode != 0) throw new InvalidOperationException($"openssl {string.Join(" ", arguments)} failed: {outcome.StandardError}");
        }

        private void MakeCertificates()
        {
            foreach (var folder in new[] { "ca", "other-ca", "server", "client", "stranger" }) Directory.CreateDirectory(Path.Combine(State, folder));
            // EC keys: quick to make on a busy machine.
            void Authority(string folder, string name) =>
                OpenSsl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                    "-subj", "/CN=" + name, "-keyout", $"{folder}/key.pem", "-out", $"{folder}/ca.pem");
            void Signed(string folder, string authority, string name, string extensions)
            {
                File.WriteAllText(Path.Combine(State, folder, "ext.cnf"), extensions + "\n");
                OpenSsl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=" + name,
                    "-keyout", $"{folder}/key.pem", "-out", $"{folder}/request.csr");
                OpenSsl("x509", "-req", "-in", $"{folder}/request.csr", "-CA", $"{authority}/ca.pem", "-CAkey", $"{authority}/key.pem",
                    "-CAcreateserial", "-days", "2", "-extfile", $"{folder}/ext.cnf", "-out", $"{folder}/cert.pem");
            }
            Authority("ca", "imagetools-test-ca");
            Authority("other-ca", "imagetools-stranger-ca");
            Signed("server", "ca", "127.0.0.1", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth");
            Signed("client", "ca", "imagetools-client", "extendedKeyUsage=clientAuth");
            Signed("stranger", "other-ca", "imagetools-stranger", "extendedKeyUsage=clientAuth");
            File.Copy(Path.Combine(State, "ca", "ca.pem"), Path.Combine(State, "client", "ca.pem"));
            File.Copy(Path.Combine(State, "ca", "ca.pem"), Path.Combine(State, "stranger", "ca.pem"));
        }

        public void Dispose()
        {
            if (_daemon != null)
            {
                if (!_daemon.HasExited)
                    ProcessRunner.RunAsync("kill", new[] { "-TERM", _daemon.Id.ToString() }, CancellationToken.None).GetAwaiter().GetResult();
                if (!_daemon.WaitForExit(30000)) _daemon.Kill(entireProcessTree: true);
                _daemon.Dispose();
            }
            if (State.Length > 0) ProcessRunner.RunAsync("rm", new[] { "-rf", State }, CancellationToken.None).GetAwaiter().GetResult();
        }
    }

    /// <summary>The Engine API adapter over TCP with TLS client certificates, read from DOCKER_CERT_PATH as the CLI reads them.</summary>
    [Collection(DockerCollection.Name)]
    public class TlsEngineTests : IClassFixture<TlsEngine>
    {
        private readonly TlsEngine _engine;

        public TlsEngineTests(TlsEngine engine) => _engine = engine;

        private static readonly CancellationToken None = CancellationToken.None;

        private IContainerEngine Create(string certificates, bool verify = true)
        {
            DockerServices.Require();
            var environment = new Dictionary<string, string?>
            {
                ["DOCKER_HOST"] = _engine.Host,
                ["DOCKER_TLS_VERIFY"] = verify ? "1" : null,
                ["DOCKER_CERT_PATH"] = certificates,
                [DockerEngineFactory.BuilderVariable] = "api",
            };
            return DockerEngineFactory.Create(environment, AnonymousCredentialSource.Instance);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public async Task The_api_engine_connects_with_the_client_certificate_and_builds()
        {
            using var engine = (DockerEngine)Create(_engine.GoodClient);
            Assert.False(engine.BuildsThroughCli);
            Assert.Equal(DockerServices.Docker("version", "--format", "{{.Server.Version}}").Trim(), await engine.GetVersionAsync(None));
            Assert.Null(await engine.InspectAsync("busybox:1.36", None));
            using var tree = new TestTree().Write("ctx/which", "tls\n");
            var id = await engine.BuildAsync(new BuildRequest("tls", tree.PathOf("ctx"), "FROM scratch\nCOPY which /which\n"), None);
            Assert.Equal(id, (await engine.InspectAsync(id, None))!.Id);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public async Task A_client_certificate_the_engine_does_not_trust_is_a_tls_error_naming_DOCKER_CERT_PATH()
        {
            using var engine = (IDisposable)Create(_engine.StrangerClient);
            var error = await Assert.ThrowsAsync<ImageToolsException>(() => ((IContainerEngine)engine).GetVersionAsync(None));
            Assert.Equal("EngineTlsFailed", error.ErrorId);
            Assert.Contains("DOCKER_CERT_PATH (" + _engine.StrangerClient + ")", error.Message);
            Assert.Contains(_engine.Host, error.Message);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void A_missing_client_certificate_is_an_error_naming_DOCKER_CERT_PATH_and_the_files()
        {
            using var empty = new TestTree();
            var error = Assert.Throws<ImageToolsException>(() => Create(empty.Root));
            Assert.Equal("EngineTlsCertificateMissing", error.ErrorId);
            Assert.Contains("DOCKER_CERT_PATH (" + empty.Root + ")", error.Message);
            Assert.Contains("cert.pem, key.pem, ca.pem", error.Message);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public async Task Without_DOCKER_TLS_VERIFY_the_engine_certificate_is_not_checked_as_with_the_cli()
        {
            using var folder = new TestTree();
            File.Copy(Path.Combine(_engine.GoodClient, "cert.pem"), folder.PathOf("cert.pem"));
            File.Copy(Path.Combine(_engine.GoodClient, "key.pem"), folder.PathOf("key.pem"));
            using var engine = (DockerEngine)Create(folder.Root, verify: false);
            Assert.False(string.IsNullOrEmpty(await engine.GetVersionAsync(None)));
        }
    }
}
