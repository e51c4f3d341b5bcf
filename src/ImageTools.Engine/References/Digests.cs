using System;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ImageTools.References
{
    /// <summary>Content digests as the OCI image spec writes them: <c>algorithm:lowercase-hex</c>.</summary>
    internal static class Digests
    {
        public static string Sha256(byte[] content) => Compute("sha256", content);

        /// <summary>The sha256 digest of a stream's content from its current position to its end.</summary>
        public static string Sha256(System.IO.Stream content)
        {
            using var hash = SHA256.Create();
            return Format("sha256", hash.ComputeHash(content));
        }

        /// <summary>True for sha256 (64 hex digits) and sha512 (128) digests in lower case.</summary>
        public static bool IsValid(string? digest) => TryAlgorithm(digest, out _);

        /// <summary>The digest of <paramref name="content"/> with the algorithm <paramref name="like"/> uses.</summary>
        public static string ComputeLike(string like, byte[] content)
        {
            if (!TryAlgorithm(like, out var algorithm)) throw new ArgumentException($"'{like}' is not a sha256 or sha512 digest.", nameof(like));
            return Compute(algorithm!, content);
        }

        public static bool Matches(string digest, byte[] content) => IsValid(digest) && ComputeLike(digest, content) == digest;

        private static string Compute(string algorithm, byte[] content)
        {
            using HashAlgorithm hash = algorithm == "sha512" ? SHA512.Create() : (HashAlgorithm)SHA256.Create();
            return Format(algorithm, hash.ComputeHash(content));
        }

        private static string Format(string algorithm, byte[] bytes)
        {
            var text = new StringBuilder(algorithm.Length + 1 + bytes.Length * 2).Append(algorithm).Append(':');
            foreach (var b in bytes) text.Append(b.ToString("x2", CultureInfo.InvariantCulture));
            return text.ToString();
        }

        private static bool TryAlgorithm(string? digest, out string? algorithm)
        {
            algorithm = null;
            if (digest == null) return false;
            var colon = digest.IndexOf(':');
            if (colon < 0) return false;
            var name = digest.Substring(0, colon);
            var hexLength = name == "sha256" ? 64 : name == "sha512" ? 128 : -1;
            if (digest.Length - colon - 1 != hexLength) return false;
            for (var i = colon + 1; i < digest.Length; i++)
            {
                var c = digest[i];
                if (!(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'f')) return false;
            }
            algorithm = name;
            return true;
        }
    }
}
