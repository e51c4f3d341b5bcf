using System;
using System.Linq;
using System.Text.RegularExpressions;

namespace ImageTools.Formats
{
    /// <summary>
    /// A build context that is a git repository, written as <c>docker build</c> takes it:
    /// <c>REMOTE[#REF][:DIR]</c>, the fragment split at its first ':' into the ref and the directory
    /// (docker/cli's <c>getRefAndSubdir</c>). Remotes are those the docker CLI reads as git URLs
    /// (<c>https://…/x.git</c>, <c>http://…/x.git</c>, <c>git://…</c>, <c>git@host:path</c>,
    /// <c>github.com/…</c>), BuildKit's <c>ssh://…</c>, and <c>file://…</c> for local repositories
    /// (which docker does not take; ImageTools does, for mirrors on disk and for tests).
    /// </summary>
    internal sealed class GitContextUrl
    {
        private static readonly Regex UserInfo = new Regex("^([a-z][a-z0-9+.-]*://)[^/@]*@", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        private static readonly Regex AnyUserInfo = new Regex("([a-z][a-z0-9+.-]*://)[^/@\\s'\"]*@", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        private static readonly Regex FullCommit = new Regex("^[0-9a-f]{40}$|^[0-9a-f]{64}$", RegexOptions.CultureInvariant);

        private GitContextUrl(string text, string remote, string? reference, string? directory)
        {
            Text = text;
            Remote = remote;
            Ref = reference;
            Directory = directory;
            DisplayRemote = UserInfo.Replace(remote, "$1");
            var match = UserInfo.Match(remote);
            _userInfo = match.Success ? match.Value.Substring(match.Groups[1].Length).TrimEnd('@') : "";
        }

        private readonly string _userInfo;

        /// <summary>As written (may hold credentials: never print it).</summary>
        public string Text { get; }
        /// <summary>What git is given (may hold credentials: never print it).</summary>
        public string Remote { get; }
        /// <summary>The remote without user information (<c>https://user:token@host</c> → <c>https://host</c>): what users see.</summary>
        public string DisplayRemote { get; }
        /// <summary>A branch, tag, full ref or full commit; null for the remote's default branch (its HEAD).</summary>
        public string? Ref { get; }
        /// <summary>The context directory inside the repository, '/'-separated; null for its root.</summary>
        public string? Directory { get; }
        /// <summary>The ref is a full commit id, which no ls-remote can move.</summary>
        public bool RefIsCommit => Ref != null && FullCommit.IsMatch(Ref);

        /// <summary>The URL as users may see it: no credentials.</summary>
        public string Display => DisplayRemote + (Ref == null && Directory == null ? "" : "#" + Ref + (Directory == null ? "" : ":" + Directory));

        public override string ToString() => Display;

        /// <summary>Whether a context setting names a git repository rather than a directory (docker/cli's IsGitURL, plus ssh:// and file://).</summary>
        public static bool IsGitUrl(string text)
        {
            if (text.StartsWith("git://", StringComparison.Ordinal) || text.StartsWith("git@", StringComparison.Ordinal) ||
                text.StartsWith("github.com/", StringComparison.Ordinal) || text.StartsWith("ssh://", StringComparison.Ordinal) ||
                text.StartsWith("file://", StringComparison.Ordinal))
                return true;
            if (!text.StartsWith("https://", StringComparison.Ordinal) && !text.StartsWith("http://", StringComparison.Ordinal)) return false;
            var hash = text.IndexOf('#');
            var path = hash < 0 ? text : text.Substring(0, hash);
            return path.EndsWith(".git", StringComparison.Ordinal) || path.EndsWith(".git/", StringComparison.Ordinal);
        }

        /// <summary>Reads a git context; the message of the <see cref="FormatException"/> says what is wrong (without the URL's credentials).</summary>
        public static GitContextUrl Parse(string text)
        {
            if (!IsGitUrl(text)) throw new FormatException("it is not a git URL (https://host/repo.git, git@host:repo, git://, ssh:// or file://)");
            var hash = text.IndexOf('#');
            var remote = hash < 0 ? text : text.Substring(0, hash);
            var fragment = hash < 0 ? "" : text.Substring(hash + 1);
            if (remote.StartsWith("github.com/", StringComparison.Ordinal)) remote = "https://" + remote;
            var colon = fragment.IndexOf(':');
            var reference = colon < 0 ? fragment : fragment.Substring(0, colon);
            var directory = colon < 0 ? "" : fragment.Substring(colon + 1);

            if (remote.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
                throw new FormatException("the repository URL holds spaces or control characters");
            if (remote.Length <= remote.IndexOf("//", StringComparison.Ordinal) + 2 || remote.EndsWith("@", StringComparison.Ordinal))
                throw new FormatException("the repository URL names no repository");
            if (reference.Length > 0 && !IsValidRef(reference))
                throw new FormatException($"'{reference}' is not a git ref: a branch, a tag, refs/… or a full commit, without spaces, '..', '~', '^', ':', '?', '*', '[' or '\\', not starting with '-'");

            string? normalised = null;
            if (directory.Length > 0)
            {
                var parts = directory.Replace('\\', '/').Split('/').Where(p => p.Length > 0 && p != ".").ToList();
                if (directory.StartsWith("/", StringComparison.Ordinal) || parts.Any(p => p == ".."))
                    throw new FormatException($"the directory '{directory}' must stay inside the repository (relative, no '..')");
                normalised = parts.Count == 0 ? null : string.Join("/", parts);
            }
            var normalisedRef = reference.Length == 0 ? null : FullCommit.IsMatch(reference.ToLowerInvariant()) ? reference.ToLowerInvariant() : reference;
            return new GitContextUrl(text, remote, normalisedRef, normalised);
        }

        /// <summary>Removes the remote's credentials from text git printed (its messages may quote the URL).</summary>
        public string Redact(string text)
        {
            if (text.Length == 0) return text;
            var redacted = AnyUserInfo.Replace(Remote == DisplayRemote ? text : text.Replace(Remote, DisplayRemote), "$1");
            if (_userInfo.Length == 0) return redacted;
            redacted = redacted.Replace(_userInfo, "***");
            var colon = _userInfo.IndexOf(':');
            return colon >= 0 && colon < _userInfo.Length - 1 ? redacted.Replace(_userInfo.Substring(colon + 1), "***") : redacted;
        }

        /// <summary>git check-ref-format's rules, and no leading '-' (git would read an option).</summary>
        private static bool IsValidRef(string reference) =>
            !reference.StartsWith("-", StringComparison.Ordinal) && !reference.StartsWith("/", StringComparison.Ordinal) &&
            !reference.EndsWith("/", StringComparison.Ordinal) && !reference.EndsWith(".", StringComparison.Ordinal) &&
            !reference.EndsWith(".lock", StringComparison.Ordinal) && reference.IndexOf("..", StringComparison.Ordinal) < 0 &&
            reference.IndexOf("@{", StringComparison.Ordinal) < 0 && reference.IndexOf("//", StringComparison.Ordinal) < 0 &&
            reference.All(c => c > ' ' && c != 0x7f && "~^:?*[\\".IndexOf(c) < 0);
    }
}
