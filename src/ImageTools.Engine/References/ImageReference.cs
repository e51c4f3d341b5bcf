using System;
using System.Globalization;
using System.Text.RegularExpressions;

namespace ImageTools.References
{
    /// <summary>
    /// An image reference per the distribution reference grammar
    /// (<c>[domain/]path[:tag][@digest]</c>, github.com/distribution/reference regexp.go), kept as
    /// written, with Docker's normalisation on request.
    /// </summary>
    /// <remarks>
    /// Where the grammar is ambiguous we do what Docker's <c>ParseNormalizedNamed</c> does: the first
    /// path component is a registry only when it holds '.' or ':', is <c>localhost</c>, or has upper
    /// case letters (a namespace may not), so <c>team/app</c> is a Docker Hub repository. Digests
    /// must use an algorithm registries know (sha256, sha384, sha512) with lower-case hex, as
    /// go-digest requires; the bare grammar would accept any algorithm.
    /// </remarks>
    internal sealed class ImageReference : IEquatable<ImageReference>
    {
        public const string DockerHub = "docker.io";
        public const int MaxNameLength = 255;
        public const int MaxTagLength = 128;

        // Patterns end in \z, not $: .NET's $ also matches before a final newline.
        // [A-Za-z0-9_] instead of \w: Go's \w is ASCII, .NET's takes any Unicode letter.
        private static readonly Regex DomainPattern = new Regex(
            @"^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?\z",
            RegexOptions.CultureInvariant);
        private static readonly Regex PathComponentPattern = new Regex(@"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*\z", RegexOptions.CultureInvariant);
        private static readonly Regex TagPattern = new Regex(@"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\z", RegexOptions.CultureInvariant);
        private static readonly Regex DigestPattern = new Regex(@"^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}\z", RegexOptions.CultureInvariant);
        private static readonly Regex ImageIdPattern = new Regex(@"^[a-f0-9]{64}\z", RegexOptions.CultureInvariant);

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

        /// <summary>How docker shows the name (no tag): no docker.io, no <c>library/</c> before a single component.</summary>
        public string FamiliarName
        {
            get
            {
                var normalized = Normalize();
                if (normalized.Registry != DockerHub) return normalized.Name;
                const string library = "library/";
                var repository = normalized.Repository;
                return repository.StartsWith(library, StringComparison.Ordinal) && repository.IndexOf('/', library.Length) < 0
                    ? repository.Substring(library.Length)
                    : repository;
            }
        }

        /// <summary>Parses <paramref name="text"/>; throws <c>InvalidImageReference</c> naming the part that is wrong.</summary>
        public static ImageReference Parse(string text)
        {
            if (TryParse(text, out var reference, out var error)) return reference!;
            throw new ImageToolsException("InvalidImageReference", FaultKind.InvalidData, $"'{text}' is not a valid image reference: {error}.");
        }

        /// <summary>
        /// Parses <paramref name="text"/>. On failure <paramref name="error"/> says which part is wrong
        /// and how to fix it, as a clause without a final period, so callers can embed it.
        /// </summary>
        public static bool TryParse(string? text, out ImageReference? reference, out string? error)
        {
            reference = null;
            error = Check(text, out var registry, out var repository, out var tag, out var digest);
            if (error != null) return false;
            reference = new ImageReference(registry, repository!, tag, digest);
            return true;
        }

        /// <summary>
        /// A reference from its parts: a registry host (or none), a repository path, a tag (or none).
        /// How the tree names its own images, without joining and cutting text.
        /// </summary>
        public static ImageReference FromParts(string? registry, string repository, string? tag)
        {
            var error = registry != null && !IsValidRegistry(registry) ? $"the registry '{registry}' is not a host name or address with an optional :port"
                : CheckPath(repository ?? "") ?? (tag == null ? null : CheckTag(tag));
            if (error != null)
                throw new ImageToolsException("InvalidImageReference", FaultKind.InvalidData,
                    $"'{(registry == null ? "" : registry + "/")}{repository}{(tag == null ? "" : ":" + tag)}' is not a valid image reference: {error}.");
            return new ImageReference(registry, repository!, tag, null);
        }

        /// <summary>Whether <paramref name="tag"/> is a valid tag on its own (the grammar of a reference's tag).</summary>
        public static bool IsValidTag(string? tag) => CheckTag(tag) == null;

        /// <summary>Whether <paramref name="path"/> is a repository path without registry, tag or digest.</summary>
        public static bool IsValidRepository(string? path) => path != null && path.Length <= MaxNameLength && CheckPath(path) == null;

        /// <summary>
        /// Whether <paramref name="host"/> is a registry host[:port] that a reference's first component is
        /// read as (Docker's rule: it needs a '.', a ':' or to be localhost, else it is a namespace).
        /// </summary>
        public static bool IsValidRegistry(string? host) => host != null && ReadsAsDomain(host) && DomainPattern.IsMatch(host);

        /// <summary>Validates a repository path without registry, tag or digest (an image's name in the tree).</summary>
        public static void ValidateName(string name, string? filePath = null)
        {
            var error = name == null ? "it is empty" : CheckPath(name);
            var slash = name?.IndexOf('/') ?? -1;
            if (error == null && slash > 0 && ReadsAsDomain(name!.Substring(0, slash)))
                error = $"its first component '{name.Substring(0, slash)}' would be read as a registry; set the registry in the tree's configuration instead";
            if (error == null && name!.Length > MaxNameLength)
                error = $"it is {name.Length} characters long; names may have at most {MaxNameLength}";
            if (error == null && ImageIdPattern.IsMatch(name!))
                error = "64 hexadecimal characters read as an image ID; choose a name that is not one";
            if (error != null)
                throw new ImageToolsException("InvalidImageName", FaultKind.InvalidData,
                    $"'{name}' is not a valid image name: {error}. Use lower-case letters and digits, separated by '.', '_', '__', '-' or '/', " +
                    "without registry, tag or digest.", filePath);
        }

        /// <summary>
        /// Docker's normal form: docker.io for no registry (or index.docker.io), <c>library/</c> before
        /// its single-component names, no default :443. The tag stays absent when none is written.
        /// </summary>
        public ImageReference Normalize()
        {
            var registry = RegistryHost;
            var repository = registry == DockerHub && Repository.IndexOf('/') < 0 ? "library/" + Repository : Repository;
            return new ImageReference(registry, repository, Tag, Digest);
        }

        /// <summary>The same name with <paramref name="tag"/>; a digest stays, as distribution's WithTag keeps it.</summary>
        public ImageReference WithTag(string tag)
        {
            var error = CheckTag(tag);
            if (error != null)
                throw new ImageToolsException("InvalidTag", FaultKind.InvalidData, $"'{tag}' is not a valid tag: {error}.");
            return new ImageReference(Registry, Repository, tag, Digest);
        }

        /// <summary>The same name pinned to <paramref name="digest"/> alone (<c>name@digest</c>, no tag): what cannot be moved under us.</summary>
        public ImageReference ByDigest(string digest) => new ImageReference(Registry, Repository, null, null).WithDigest(digest);

        /// <summary>The same name and tag with <paramref name="digest"/>.</summary>
        public ImageReference WithDigest(string digest)
        {
            var error = CheckDigest(digest);
            if (error != null)
                throw new ImageToolsException("InvalidDigest", FaultKind.InvalidData, $"'{digest}' is not a valid digest: {error}.");
            return new ImageReference(Registry, Repository, Tag, digest);
        }

        /// <summary>Equal when the normal forms are: <c>debian:bookworm</c> equals <c>docker.io/library/debian:bookworm</c>.</summary>
        public bool Equals(ImageReference? other)
        {
            if (other is null) return false;
            if (ReferenceEquals(this, other)) return true;
            var a = Normalize();
            var b = other.Normalize();
            return a.Registry == b.Registry && a.Repository == b.Repository && a.Tag == b.Tag && a.Digest == b.Digest;
        }

        public override bool Equals(object? obj) => Equals(obj as ImageReference);

        public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Normalize().ToString());

        public static bool operator ==(ImageReference? left, ImageReference? right) => left is null ? right is null : left.Equals(right);

        public static bool operator !=(ImageReference? left, ImageReference? right) => !(left == right);

        /// <summary>registry/repository[:tag][@digest] as written.</summary>
        public override string ToString() => Name + (Tag == null ? "" : ":" + Tag) + (Digest == null ? "" : "@" + Digest);

        private static string? Check(string? text, out string? registry, out string? repository, out string? tag, out string? digest)
        {
            registry = repository = tag = digest = null;
            if (string.IsNullOrEmpty(text)) return "it is empty; write a name such as 'debian:bookworm'";
            var rest = text!;
            if (ImageIdPattern.IsMatch(rest))
                return "64 hexadecimal characters read as an image ID, not a name; use the image's name, or 'name@sha256:<id>'";

            var at = rest.IndexOf('@');
            if (at >= 0)
            {
                digest = rest.Substring(at + 1);
                rest = rest.Substring(0, at);
                var digestError = CheckDigest(digest);
                if (digestError != null) return digestError;
            }

            // A '[' opening the text without a '/' is an IPv6 registry with no repository after it;
            // say so rather than complain about a tag "1]".
            if (rest.StartsWith("[", StringComparison.Ordinal) && rest.IndexOf('/') < 0)
                return $"'{rest}' is a registry address without a repository; add '/name' after it";

            // A ':' after the last '/' starts the tag; one before it belongs to the registry port.
            var colon = rest.LastIndexOf(':');
            if (colon > rest.LastIndexOf('/'))
            {
                tag = rest.Substring(colon + 1);
                rest = rest.Substring(0, colon);
                var tagError = CheckTag(tag);
                if (tagError != null) return tagError;
            }

            var slash = rest.IndexOf('/');
            if (slash >= 0)
            {
                var first = rest.Substring(0, slash);
                if (ReadsAsDomain(first))
                {
                    if (!DomainPattern.IsMatch(first))
                        return $"the registry '{first}' is not a host name, IPv4 address or [IPv6] address with an optional :port " +
                               "(a first component with '.', ':' or upper-case letters is read as a registry; namespaces are lower case)";
                    registry = first;
                    rest = rest.Substring(slash + 1);
                }
            }

            var pathError = CheckPath(rest);
            if (pathError != null) return pathError;
            var nameLength = (registry == null ? 0 : registry.Length + 1) + rest.Length;
            if (nameLength > MaxNameLength)
                return $"the name is {nameLength} characters long; registry and repository together may have at most {MaxNameLength}";
            repository = rest;
            return null;
        }

        /// <summary>Docker's splitDockerDomain rule for the first component before a '/'.</summary>
        private static bool ReadsAsDomain(string first) =>
            first.IndexOf('.') >= 0 || first.IndexOf(':') >= 0 || first == "localhost" || HasUpper(first);

        private static string? CheckPath(string path)
        {
            if (path.Length == 0) return "the repository name is empty; write one, e.g. 'team/app'";
            if (HasUpper(path)) return $"the repository name '{path}' must be lower case (write '{path.ToLowerInvariant()}')";
            foreach (var component in path.Split('/'))
            {
                if (component.Length == 0)
                    return $"the repository name '{path}' has an empty path component; remove the leading, trailing or doubled '/'";
                if (!PathComponentPattern.IsMatch(component))
                    return $"'{component}' in '{path}' is not a valid path component: use lower-case letters and digits, " +
                           "separated by one '.', one or two '_', or dashes, starting and ending with a letter or digit";
            }
            return null;
        }

        private static string? CheckTag(string? tag)
        {
            if (string.IsNullOrEmpty(tag)) return "the tag after ':' is empty; write one or drop the ':'";
            if (tag!.Length > MaxTagLength) return $"the tag is {tag.Length} characters long; tags may have at most {MaxTagLength}";
            if (!TagPattern.IsMatch(tag))
                return $"the tag '{tag}' may only hold ASCII letters, digits, '_', '.' and '-', and must not start with '.' or '-'";
            return null;
        }

        private static string? CheckDigest(string? digest)
        {
            if (string.IsNullOrEmpty(digest)) return "the digest after '@' is empty; write one like sha256:<64 hex digits> or drop the '@'";
            if (!DigestPattern.IsMatch(digest!))
                return $"the digest '{digest}' is not algorithm:hex with at least 32 hex digits (e.g. sha256:<64 hex digits>)";
            var colon = digest!.IndexOf(':');
            var algorithm = digest.Substring(0, colon);
            var hex = digest.Substring(colon + 1);
            int expected;
            switch (algorithm)
            {
                case "sha256": expected = 64; break;
                case "sha384": expected = 96; break;
                case "sha512": expected = 128; break;
                default: return $"the digest algorithm '{algorithm}' is not supported; registries take sha256, sha384 or sha512";
            }
            if (hex.Length != expected)
                return string.Format(CultureInfo.InvariantCulture, "the {0} digest has {1} hex digits; it needs exactly {2}", algorithm, hex.Length, expected);
            if (HasUpper(hex)) return $"the {algorithm} digest must be written in lower-case hex";
            return null;
        }

        private static bool HasUpper(string text)
        {
            foreach (var c in text) if (c >= 'A' && c <= 'Z') return true;
            return false;
        }

        internal static string NormalizeRegistry(string? registry)
        {
            if (registry == null) return DockerHub;
            // Drop the default HTTPS port, but only when the bare host still reads as a registry:
            // "registry:443/a" must not turn into "registry/a", which is Docker Hub's user "registry".
            if (registry.EndsWith(":443", StringComparison.Ordinal))
            {
                var host = registry.Substring(0, registry.Length - 4);
                if (ReadsAsDomain(host)) registry = host;
            }
            // index.docker.io is Docker Hub's legacy name; registry-1.docker.io is its API host.
            return registry == "index.docker.io" || registry == "registry-1.docker.io" ? DockerHub : registry;
        }
    }
}
