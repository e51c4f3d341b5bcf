using System;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading;
using Xunit;

namespace ImageTools.Tests.Registry
{
    /// <summary>
    /// A test that needs the real registry program (docker-registry, distribution 2.8). Skipped only
    /// on a machine without it where services are not promised (ServicePromise); else it runs and fails loudly when the program is missing.
    /// </summary>
    public sealed class RegistryFactAttribute : FactAttribute
    {
        public RegistryFactAttribute()
        {
            Skip = ServicePromise.SkipUnless(RegistryServer.Program != null,
                "docker-registry is not installed (apt-get install docker-registry apache2-utils); where services are promised (CI, TF_BUILD) this test fails instead.");
        }
    }

    public enum RegistryMode { Anonymous, Basic, Tls, Token, BasicTls }

    /// <summary>
    /// Runs <c>docker-registry serve</c> on 127.0.0.1 and a free port, with its storage and
    /// configuration under a temporary directory, in one of four modes: anonymous plain HTTP,
    /// htpasswd Basic auth, TLS with a CA made here, or bearer tokens from a <see cref="TokenServer"/>.
    /// </summary>
    public sealed class RegistryServer : IDisposable
    {
        public const string User = "alice";
        public const string Password = "S3cret-Pa55-do-not-print";

        private readonly Process _process;
        private readonly StringBuilder _log = new StringBuilder();

        public static string? Program { get; } = FindOnPath("docker-registry");

        public string Directory { get; }
        public int Port { get; }
        public string Address => $"127.0.0.1:{Port}";
        public RegistryMode Mode { get; }
        /// <summary>The CA that signed the TLS certificate (Tls mode).</summary>
        public string? CaBundlePath { get; private set; }
        public TokenServer? Tokens { get; }

        public RegistryServer(RegistryMode mode)
        {
            if (Program == null)
                throw new InvalidOperationException("docker-registry is not on PATH: apt-get install docker-registry apache2-utils.");
            Mode = mode;
            Directory = Path.Combine(Path.GetTempPath(), "imagetools-registry-" + Guid.NewGuid().ToString("N").Substring(0, 12));
            System.IO.Directory.CreateDirectory(Directory);
            Port = FreePort();
            var config = new StringBuilder()
                .AppendLine("version: 0.1")
                .AppendLine("log:")
                .AppendLine("  level: warn")
                .AppendLine("  accesslog:")
                .AppendLine("    disabled: true")
                .AppendLine("storage:")
                .AppendLine("  filesystem:")
                .AppendLine($"    rootdirectory: {Directory}/data")
                .AppendLine("  delete:")
                .AppendLine("    enabled: true")
                .AppendLine("http:")
                .AppendLine($"  addr: 127.0.0.1:{Port}")
                .AppendLine("  secret: imagetools-test-secret");
            switch (mode)
            {
                case RegistryMode.Basic:
                    AddBasicAuth(config);
                    break;
                case RegistryMode.Tls:
                    AddTls(config);
                    break;
                case RegistryMode.BasicTls:
                    // tls belongs under http:, so it goes first; auth is a top-level section.
                    AddTls(config);
                    AddBasicAuth(config);
                    break;
                case RegistryMode.Token:
                    Tokens = new TokenServer("imagetools-test-registry", "imagetools-test-issuer");
                    File.WriteAllText(Path.Combine(Directory, "token-ca.pem"), Tokens.RootBundlePem);
                    config.AppendLine("auth:").AppendLine("  token:")
                        .AppendLine($"    realm: {Tokens.Realm}")
                        .AppendLine($"    service: {Tokens.Service}")
                        .AppendLine($"    issuer: {Tokens.Issuer}")
                        .AppendLine($"    rootcertbundle: {Directory}/token-ca.pem");
                    break;
            }
            var configPath = Path.Combine(Directory, "config.yml");
            File.WriteAllText(configPath, config.ToString());

            var start = new ProcessStartInfo(Program, $"serve {configPath}")
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            _process = Process.Start(start)!;
            _process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (_log) _log.AppendLine(e.Data); };
            _process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (_log) _log.AppendLine(e.Data); };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
            WaitUntilListening(TimeSpan.FromSeconds(20));
        }

        private void AddBasicAuth(StringBuilder config)
        {
            var htpasswd = Run("htpasswd", $"-Bbn {User} {Password}");
            File.WriteAllText(Path.Combine(Directory, "htpasswd"), htpasswd);
            config.AppendLine("auth:").AppendLine("  htpasswd:").AppendLine("    realm: imagetools-test")
                .AppendLine($"    path: {Directory}/htpasswd");
        }

        private void AddTls(StringBuilder config)
        {
            var ca = TestCertificates.CreateCa("ImageTools test CA");
            CaBundlePath = Path.Combine(Directory, "ca.pem");
            File.WriteAllText(CaBundlePath, TestCertificates.Pem(ca));
            using (var leaf = TestCertificates.CreateServer(ca, "127.0.0.1"))
            {
                File.WriteAllText(Path.Combine(Directory, "server.pem"), TestCertificates.Pem(leaf));
                File.WriteAllText(Path.Combine(Directory, "server.key"), TestCertificates.PrivateKeyPem(leaf));
            }
            ca.Dispose();
            config.AppendLine("  tls:").AppendLine($"    certificate: {Directory}/server.pem").AppendLine($"    key: {Directory}/server.key");
        }

        public string Log { get { lock (_log) return _log.ToString(); } }

        private void WaitUntilListening(TimeSpan limit)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < limit)
            {
                if (_process.HasExited)
                    throw new InvalidOperationException($"docker-registry exited with {_process.ExitCode} before listening:\n{Log}");
                try
                {
                    using var client = new TcpClient();
                    client.Connect(IPAddress.Loopback, Port);
                    return;
                }
                catch (SocketException)
                {
                    Thread.Sleep(50);
                }
            }
            Dispose();
            throw new TimeoutException($"docker-registry did not listen on {Address} within {limit.TotalSeconds} s:\n{Log}");
        }

        public void Dispose()
        {
            try
            {
                if (!_process.HasExited)
                {
                    _process.Kill(entireProcessTree: true);
                    _process.WaitForExit(5000);
                }
            }
            catch (InvalidOperationException)
            {
            }
            _process.Dispose();
            Tokens?.Dispose();
            try { System.IO.Directory.Delete(Directory, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }

        public static int FreePort()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            return port;
        }

        private static string Run(string program, string arguments)
        {
            var start = new ProcessStartInfo(FindOnPath(program) ?? throw new InvalidOperationException(
                $"{program} is not on PATH: apt-get install apache2-utils."), arguments)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0) throw new InvalidOperationException($"{program} failed: {process.StandardError.ReadToEnd()}");
            return output;
        }

        internal static string? FindOnPath(string program)
        {
            foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
            {
                if (directory.Length == 0) continue;
                var candidate = Path.Combine(directory, program);
                if (File.Exists(candidate)) return candidate;
            }
            return null;
        }
    }

    /// <summary>Certificates for tests: a CA, server certificates it signs, PEM output.</summary>
    public static class TestCertificates
    {
        public static X509Certificate2 CreateCa(string name)
        {
            using var key = RSA.Create(2048);
            var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
            request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
            return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        }

        /// <summary>A certificate signed by <paramref name="ca"/>, with its private key, for a server at an IP address or a signing key.</summary>
        public static X509Certificate2 CreateServer(X509Certificate2 ca, string ipAddressOrName, bool forServer = true)
        {
            var key = RSA.Create(2048);
            var request = new CertificateRequest($"CN={ipAddressOrName}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
            if (forServer)
            {
                request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new Oid("1.3.6.1.5.5.7.3.1") }, false));
                var names = new SubjectAlternativeNameBuilder();
                if (IPAddress.TryParse(ipAddressOrName, out var address)) names.AddIpAddress(address);
                else names.AddDnsName(ipAddressOrName);
                request.CertificateExtensions.Add(names.Build());
            }
            var serial = new byte[12];
            RandomNumberGenerator.Fill(serial);
            serial[0] &= 0x7f;
            using var signed = request.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(29), serial);
            return signed.CopyWithPrivateKey(key);
        }

        public static string Pem(X509Certificate2 certificate) => certificate.ExportCertificatePem() + "\n";

        public static string PrivateKeyPem(X509Certificate2 certificate) => certificate.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem() + "\n";
    }
}
