using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace ImageTools.Registry
{
    /// <summary>
    /// The HTTP handler one registry client uses: the system trust store, plus the certificates of
    /// an optional PEM CA bundle as extra trust anchors, and a record of the last certificate the
    /// server failed with so that a TLS failure can be reported as one (and told apart from a
    /// server that does not speak TLS at all).
    /// </summary>
    internal sealed class CertificateTrust
    {
        private readonly X509Certificate2Collection _bundle;
        private volatile string? _lastCertificateFailure;

        public CertificateTrust(string? caBundlePath)
        {
            CaBundlePath = caBundlePath;
            _bundle = caBundlePath == null ? new X509Certificate2Collection() : LoadPem(caBundlePath);
        }

        public string? CaBundlePath { get; }

        /// <summary>Why the last server certificate was refused; null when none was.</summary>
        public string? LastCertificateFailure => _lastCertificateFailure;

        public void ClearCertificateFailure() => _lastCertificateFailure = null;

        public HttpClientHandler CreateHandler()
        {
            var handler = new HttpClientHandler
            {
                AllowAutoRedirect = true,
                UseCookies = false,
                AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
                ServerCertificateCustomValidationCallback = Validate,
            };
            return handler;
        }

        private bool Validate(HttpRequestMessage request, X509Certificate2? certificate, X509Chain? chain, SslPolicyErrors errors)
        {
            if (errors == SslPolicyErrors.None) return true;
            if (certificate != null && _bundle.Count > 0 && (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == SslPolicyErrors.None)
            {
                // Only the chain was wrong (name and presence are fine): build it again with our anchors.
                using var custom = new X509Chain();
                custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                custom.ChainPolicy.VerificationFlags = X509VerificationFlags.AllowUnknownCertificateAuthority;
                custom.ChainPolicy.ExtraStore.AddRange(_bundle);
                if (chain != null)
                    foreach (var element in chain.ChainElements) custom.ChainPolicy.ExtraStore.Add(element.Certificate);
                if (custom.Build(certificate))
                {
                    var root = custom.ChainElements[custom.ChainElements.Count - 1].Certificate;
                    // AllowUnknownCertificateAuthority accepts any self-signed root: insist it is one of ours.
                    if (_bundle.Cast<X509Certificate2>().Any(anchor => anchor.RawData.SequenceEqual(root.RawData))) return true;
                }
                _lastCertificateFailure = $"the certificate of {request.RequestUri?.Authority} does not chain to a certificate in {CaBundlePath}" +
                    Describe(custom);
                return false;
            }
            _lastCertificateFailure = $"the certificate of {request.RequestUri?.Authority} was refused ({errors})" +
                (chain != null ? Describe(chain) : "");
            return false;
        }

        private static string Describe(X509Chain chain)
        {
            var statuses = chain.ChainStatus.Where(s => s.Status != X509ChainStatusFlags.NoError)
                .Select(s => s.Status.ToString()).Distinct().ToList();
            return statuses.Count == 0 ? "" : ": " + string.Join(", ", statuses);
        }

        /// <summary>Every CERTIFICATE block of a PEM file.</summary>
        internal static X509Certificate2Collection LoadPem(string path)
        {
            string text;
            try { text = File.ReadAllText(path); }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new ImageToolsException("CaBundleUnreadable", FaultKind.ResourceUnavailable,
                    $"Cannot read the CA bundle: {e.Message}", filePath: path, inner: e);
            }
            const string begin = "-----BEGIN CERTIFICATE-----", end = "-----END CERTIFICATE-----";
            var certificates = new X509Certificate2Collection();
            var position = 0;
            while ((position = text.IndexOf(begin, position, StringComparison.Ordinal)) >= 0)
            {
                var stop = text.IndexOf(end, position, StringComparison.Ordinal);
                if (stop < 0) break;
                var body = text.Substring(position + begin.Length, stop - position - begin.Length);
                try { certificates.Add(new X509Certificate2(Convert.FromBase64String(string.Concat(body.Where(c => !char.IsWhiteSpace(c)))))); }
                catch (Exception e) when (e is FormatException || e is System.Security.Cryptography.CryptographicException)
                {
                    throw new ImageToolsException("CaBundleInvalid", FaultKind.InvalidData,
                        $"A CERTIFICATE block of the CA bundle is not a certificate ({e.Message}). Use a PEM file of CA certificates.",
                        filePath: path, inner: e);
                }
                position = stop + end.Length;
            }
            if (certificates.Count == 0)
                throw new ImageToolsException("CaBundleInvalid", FaultKind.InvalidData,
                    "The CA bundle holds no '-----BEGIN CERTIFICATE-----' block. Use a PEM file of CA certificates.", filePath: path);
            return certificates;
        }
    }
}
