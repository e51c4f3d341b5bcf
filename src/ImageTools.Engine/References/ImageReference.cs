using System;
using System.Text.RegularExpressions;

namespace ImageTools.References
{
    /// <summary>
    /// An image reference per the distribution reference grammar
    /// (<c>[domain/]path[:tag][@digest]</c>), kept as written, with Docker's normalisation on request.
    /// </summary>
    public sealed class ImageReference : IEquatable<ImageReference>
    {
        public const string DockerHub = "docker.io";
        private const int MaxNameLength = 255;
        private const int MaxTagLength = 128;

        private static readonly Regex DomainPattern = new Regex(
            @"^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$",
            RegexOptions.CultureInvariant);
        private static readonly Regex PathComponentPattern = new Regex(@"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$", RegexOptions.CultureInvariant);
        private static readonly Regex TagPattern = new Regex(@"^[\w][\w.-]{0,127}$", RegexOptions.CultureInvariant);
        private static readonly Regex DigestPattern = new Regex(@"^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$", RegexOptions.CultureInvariant);

        private ImageReference(string? registry, string repository, string? tag, string? digest)
        {
            Registry = registry;
            Repository = repository;
            Tag = tag;
            Digest = digest;
        }

        /// <summary>domain[:port] as written; null when the reference names none.</summary>
        public string? Registry { get; }
        /// <summary>The path as written, e.g. <c>debian</c> or <c>team/base</c>.</summary>
        public string Repository { get; }
        public string? Tag { get; }
        /// <summary><c>algorithm:hex</c>, e.g. <c>sha256:…</c>.</summary>
        public string? Digest { get; }

        /// <summary>registry/repository as written (no tag or digest).</summary>
        public string Name => Registry == null ? Repository : Registry + "/" + Repository;

        /// <summary>The registry to talk to: docker.io when none is written, without a default :443.</summary>
        public string RegistryHost => NormalizeRegistry(Registry);

        /// <summary>How docker shows the name: no docker.io, no library/.</summary>
        public string FamiliarName
        {
            get
            {
                var normalized = Normalize();
                if (normalized.Registry != DockerHub) return normalized.Name;
                return normalized.Repository.StartsWith("library/", StringComparison.Ordinal) && normalized.Repository.IndexOf('/', 8) < 0
                    ? normalized.Repository.Substring(8)
                    : normalized.Repository;
            }
        }

        public static ImageReference Parse(string text)
        {
            if (TryParse(text, out var reference, out var error)) return reference!;
            throw new ImageToolsException("InvalidImageReference", FaultKind.InvalidData, $"'{text}' is not a valid image reference: {error}.");
        }

        public static bool TryParse(string? text, out ImageReference? reference, out string? error)
        {
            reference = null;
            error = Check(text, out var registry, out var repository, out var tag, out var digest);
            if (error != null) return false;
            reference = new ImageReference(registry, repository!, tag, digest);
            return true;
        }

        /// <summary>Validates a repository path without registry, tag or digest (an image's name in the tree).</summary>
        public static void ValidateName(string name, string? filePath = null)
        {
            var error = CheckPath(name);
            if (error == null && name.Length > MaxNameLength) error = $"it is longer than {MaxNameLength} characters";
            if (error != null)
                throw new ImageToolsException("InvalidImageName", FaultKind.InvalidData,
                    $"'{name}' is not a valid image name: {error}. Use lower-case letters, digits and the separators . _ __ - /.", filePath);
        }

        /// <summary>Docker's normal form: docker.io for no registry, library/ for its single-component names, no :443.</summary>
        public ImageReference Normalize()
        {
            var registry = RegistryHost;
            var repository = registry == DockerHub && Repository.IndexOf('/') < 0 ? "library/" + Repository : Repository;
            return new ImageReference(registry, repository, Tag, Digest);
        }

        public ImageReference WithTag(string tag)
        {
            if (!TagPattern.IsMatch(tag))
                throw new ImageToolsException("InvalidTag", FaultKind.InvalidData,
                    $"'{tag}' is not a valid tag: use at most {MaxTagLength} letters, digits, '_', '.' and '-', not starting with '.' or '-'.");
            return new ImageReference(Registry, Repository, tag, null);
        }

        public ImageReference WithDigest(string digest)
        {
            if (!DigestPattern.IsMatch(digest) || !DigestLengthOk(digest))
                throw new ImageToolsException("InvalidDigest", FaultKind.InvalidData, $"'{digest}' is not a valid digest (expected e.g. sha256:<64 hex digits>).");
            return new ImageReference(Registry, Repository, Tag, digest);
        }

        public bool Equals(ImageReference? other)
        {
            if (other is null) return false;
            var a = Normalize();
            var b = other.Normalize();
            return a.Registry == b.Registry && a.Repository == b.Repository && a.Tag == b.Tag &&
                   string.Equals(a.Digest, b.Digest, StringComparison.OrdinalIgnoreCase);
        }

        public override bool Equals(object? obj) => Equals(obj as ImageReference);

        public override int GetHashCode()
        {
            var n = Normalize();
            return (n.Registry + "/" + n.Repository + ":" + n.Tag + "@" + n.Digest?.ToLowerInvariant()).GetHashCode();
        }

        public override string ToString() => Name + (Tag == null ? "" : ":" + Tag) + (Digest == null ? "" : "@" + Digest);

        private static string? Check(string? text, out string? registry, out string? repository, out string? tag, out string? digest)
        {
            registry = repository = tag = digest = null;
            if (string.IsNullOrEmpty(text)) return "it is empty";
            var rest = text!;
            var at = rest.IndexOf('@');
            if (at >= 0)
            {
                digest = rest.Substring(at + 1);
                rest = rest.Substring(0, at);
                if (!DigestPattern.IsMatch(digest)) return $"the digest '{digest}' is not algorithm:hex (e.g. sha256:<64 hex digits>)";
                if (!DigestLengthOk(digest)) return $"the digest '{digest}' has the wrong length for its algorithm";
            }
            // A ':' after the last '/' starts the tag; one before it belongs to the registry port.
            var colon = rest.LastIndexOf(':');
            if (colon > rest.LastIndexOf('/'))
            {
                tag = rest.Substring(colon + 1);
                rest = rest.Substring(0, colon);
                if (tag.Length > MaxTagLength) return $"the tag is longer than {MaxTagLength} characters";
                if (!TagPattern.IsMatch(tag)) return $"the tag '{tag}' may only hold letters, digits, '_', '.' and '-', and not start with '.' or '-'";
            }
            var slash = rest.IndexOf('/');
            if (slash > 0)
            {
                var first = rest.Substring(0, slash);
                if (first.IndexOf('.') >= 0 || first.IndexOf(':') >= 0 || first == "localhost" || first.StartsWith("[", StringComparison.Ordinal) || HasUpper(first))
                {
                    if (!DomainPattern.IsMatch(first)) return $"the registry '{first}' is not a host name or address with an optional :port";
                    registry = first;
                    rest = rest.Substring(slash + 1);
                }
            }
            var pathError = CheckPath(rest);
            if (pathError != null) return pathError;
            if ((registry == null ? 0 : registry.Length + 1) + rest.Length > MaxNameLength) return $"the name is longer than {MaxNameLength} characters";
            repository = rest;
            return null;
        }

        private static string? CheckPath(string path)
        {
            if (path.Length == 0) return "the repository name is empty";
            if (HasUpper(path)) return $"the repository name '{path}' must be lower case";
            foreach (var component in path.Split('/'))
            {
                if (component.Length == 0) return $"the repository name '{path}' has an empty path component";
                if (!PathComponentPattern.IsMatch(component))
                    return $"'{component}' in '{path}' is not a valid path component (lower-case letters and digits, separated by '.', '_', '__' or '-')";
            }
            return null;
        }

        private static bool DigestLengthOk(string digest)
        {
            var colon = digest.IndexOf(':');
            var algorithm = digest.Substring(0, colon);
            var hex = digest.Length - colon - 1;
            return algorithm switch
            {
                "sha256" => hex == 64,
                "sha384" => hex == 96,
                "sha512" => hex == 128,
                _ => true,
            };
        }

        private static bool HasUpper(string text)
        {
            foreach (var c in text) if (c >= 'A' && c <= 'Z') return true;
            return false;
        }

        private static string NormalizeRegistry(string? registry)
        {
            if (registry == null || registry == "index.docker.io" || registry == "registry-1.docker.io") return DockerHub;
            return registry.EndsWith(":443", StringComparison.Ordinal) ? registry.Substring(0, registry.Length - 4) : registry;
        }
    }
}
