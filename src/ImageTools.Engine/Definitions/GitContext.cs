using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using ImageTools.Formats;
using ImageTools.Processes;

namespace ImageTools.Definitions
{
    /// <summary>A git context as one scan found it: the commit its ref names now, checked out in the local cache.</summary>
    internal sealed class GitContext
    {
        public GitContext(GitContextUrl url, string resolvedRef, string commit, string checkoutPath)
        {
            Url = url;
            ResolvedRef = resolvedRef;
            Commit = commit;
            CheckoutPath = checkoutPath;
        }

        public GitContextUrl Url { get; }
        /// <summary>The ref ls-remote matched (<c>refs/heads/main</c>, <c>HEAD</c>), or the commit itself.</summary>
        public string ResolvedRef { get; }
        /// <summary>The commit the ref named when the tree was scanned: an input of the image (its inputs digest).</summary>
        public string Commit { get; }
        /// <summary>The checkout of <see cref="Commit"/> (the whole tree, no .git), shared by every image of that repository and commit.</summary>
        public string CheckoutPath { get; }
        /// <summary>The context directory: <see cref="GitContextUrl.Directory"/> inside the checkout.</summary>
        public string ContextPath => Url.Directory == null ? CheckoutPath : Path.Combine(CheckoutPath, Url.Directory.Replace('/', Path.DirectorySeparatorChar));
    }

    /// <summary>
    /// Resolves git contexts during a scan: <c>git ls-remote</c> gives the commit the ref names now,
    /// and that commit is the key of a local cache of checkouts, so a no-op run asks the remote once
    /// per repository and ref and clones nothing. A missing checkout is fetched (depth 1) into a
    /// temporary repository, checked out without .git beside the cache entry and renamed into place,
    /// so an entry exists whole or not at all. git never prompts (GIT_TERMINAL_PROMPT=0, ssh in batch
    /// mode); credentials come from git's own helpers, ssh-agent or the URL, and are never printed.
    /// </summary>
    internal sealed class GitContextResolver
    {
        private readonly string _cacheRoot;
        private readonly ConcurrentDictionary<string, Lazy<GitContext>> _resolved = new ConcurrentDictionary<string, Lazy<GitContext>>(StringComparer.Ordinal);

        public GitContextResolver(string? cacheRoot = null) => _cacheRoot = cacheRoot ?? DefaultCacheRoot();

        public string CacheRoot => _cacheRoot;

        /// <summary>IMAGETOOLS_GIT_CACHE, else beside the file-hash cache: $XDG_CACHE_HOME/imagetools/git, ~/.cache/imagetools/git, %LOCALAPPDATA%\ImageTools\git.</summary>
        public static string DefaultCacheRoot()
        {
            if (Environment.GetEnvironmentVariable("IMAGETOOLS_GIT_CACHE") is { Length: > 0 } configured) return Path.GetFullPath(configured);
            var root = Path.DirectorySeparatorChar == '\\'
                ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "ImageTools")
                : Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
                    : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "imagetools");
            return Path.Combine(root, "git");
        }

        /// <summary>The commit and checkout for <paramref name="url"/>; errors name the image, the file and line that wrote the URL, and the URL without credentials.</summary>
        public GitContext Resolve(GitContextUrl url, string imageName, string? file, int? line, CancellationToken cancellationToken)
        {
            var lazy = _resolved.GetOrAdd(url.Remote + "\n" + url.Ref, _ => new Lazy<GitContext>(() => ResolveOnce(url, imageName, file, line, cancellationToken)));
            GitContext context;
            try { context = lazy.Value; }
            catch (ImageToolsException e) when (e.ImageName != imageName)
            {
                // Another image's failure with the same repository and ref: ask again, so the error names this image and its file.
                context = ResolveOnce(url, imageName, file, line, cancellationToken);
            }
            // Two images may share a repository and ref with other directories: the checkout is the same.
            return context.Url.Directory == url.Directory ? context : new GitContext(url, context.ResolvedRef, context.Commit, context.CheckoutPath);
        }

        private GitContext ResolveOnce(GitContextUrl url, string imageName, string? file, int? line, CancellationToken cancellationToken)
        {
            var (resolvedRef, commit) = url.RefIsCommit ? (url.Ref!, url.Ref!) : LsRemote(url, imageName, file, line, cancellationToken);
            var key = Key(url.DisplayRemote);
            var checkout = Path.Combine(_cacheRoot, key + "-" + commit);
            if (!Directory.Exists(checkout)) Fetch(url, resolvedRef, commit, checkout, imageName, file, line, cancellationToken);
            return new GitContext(url, resolvedRef, commit, checkout);
        }

        /// <summary>
        /// The commit the ref names: HEAD when none is given; a full ref (refs/…) exactly; else a tag
        /// (peeled to its commit) before a branch, as git's own rev-parse rules order them.
        /// </summary>
        private static (string Ref, string Commit) LsRemote(GitContextUrl url, string imageName, string? file, int? line, CancellationToken cancellationToken)
        {
            var pattern = url.Ref ?? "HEAD";
            // The peeled line (an annotated tag's commit) only comes when asked for by its own pattern.
            var outcome = Git(pattern == "HEAD" ? new[] { "ls-remote", url.Remote, pattern } : new[] { "ls-remote", url.Remote, pattern, pattern + "^{}" }, null, url, imageName, file, line, cancellationToken);
            if (outcome.ExitCode != 0)
                throw new ImageToolsException("GitContextUnreachable", FaultKind.ResourceUnavailable,
                    $"The git context of {imageName}, {url.Display}, cannot be read: {Message(url, outcome)} " +
                    "Check the URL, the network and the credentials (a git credential helper, ssh-agent, or a token in the URL); ImageTools never prompts for them.",
                    file, line, imageName);
            var refs = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var row in outcome.StandardOutput.Split('\n'))
            {
                var parts = row.Trim().Split('\t');
                if (parts.Length == 2 && parts[0].Length >= 40) refs[parts[1]] = parts[0].ToLowerInvariant();
            }
            var candidates = pattern == "HEAD" ? new[] { "HEAD" }
                : pattern.StartsWith("refs/", StringComparison.Ordinal) ? new[] { pattern + "^{}", pattern }
                : new[] { "refs/tags/" + pattern + "^{}", "refs/tags/" + pattern, "refs/heads/" + pattern, "refs/" + pattern };
            foreach (var candidate in candidates)
            {
                if (refs.TryGetValue(candidate, out var commit))
                    return (candidate.EndsWith("^{}", StringComparison.Ordinal) ? candidate.Substring(0, candidate.Length - 3) : candidate, commit);
            }
            throw new ImageToolsException("GitRefNotFound", FaultKind.ObjectNotFound,
                $"The git context of {imageName}, {url.Display}, names {(url.Ref == null ? "the default branch, which the repository does not have" : $"'{url.Ref}', which is no branch or tag of the repository")}. " +
                "Fix the ref after '#' (a branch, a tag, refs/… or a full commit id), or push it.",
                file, line, imageName);
        }

        private void Fetch(GitContextUrl url, string resolvedRef, string commit, string checkout, string imageName, string? file, int? line, CancellationToken cancellationToken)
        {
            Directory.CreateDirectory(_cacheRoot);
            var work = Path.Combine(_cacheRoot, ".tmp-" + Guid.NewGuid().ToString("N"));
            var repository = Path.Combine(work, "repo.git");
            var tree = Path.Combine(work, "tree");
            try
            {
                Directory.CreateDirectory(tree);
                Require(Git(new[] { "init", "-q", "--bare", repository }, null, url, imageName, file, line, cancellationToken), "git init", url, imageName, file, line);
                var gitDir = "--git-dir=" + repository;
                var fetched = Git(new[] { gitDir, "fetch", "-q", "--depth", "1", "--no-tags", url.Remote, resolvedRef }, null, url, imageName, file, line, cancellationToken);
                var head = fetched.ExitCode == 0 ? Git(new[] { gitDir, "rev-parse", "FETCH_HEAD^{commit}" }, null, url, imageName, file, line, cancellationToken).StandardOutput.Trim() : "";
                if (!string.Equals(head, commit, StringComparison.OrdinalIgnoreCase))
                {
                    // The ref moved since ls-remote, or the ref is a commit: ask for the commit itself.
                    var byCommit = Git(new[] { gitDir, "fetch", "-q", "--depth", "1", "--no-tags", url.Remote, commit }, null, url, imageName, file, line, cancellationToken);
                    if (byCommit.ExitCode != 0)
                        throw new ImageToolsException(url.RefIsCommit ? "GitRefNotFound" : "GitRefMoved", url.RefIsCommit ? FaultKind.ObjectNotFound : FaultKind.InvalidOperation,
                            url.RefIsCommit
                                ? $"The git context of {imageName}, {url.Display}, names commit {commit}, which the repository does not serve: {Message(url, byCommit)} Fix the commit id, or name a branch or tag."
                                : $"The ref '{resolvedRef}' of {imageName}'s git context {url.Display} moved while it was fetched (it named {commit}), and the server does not serve that commit by id. Run again.",
                            file, line, imageName);
                }
                // A checkout without .git (as BuildKit sends it), through a private index: the bytes as committed.
                var environment = new Dictionary<string, string?> { ["GIT_INDEX_FILE"] = Path.Combine(work, "index") };
                Require(Git(new[] { gitDir, "--work-tree=" + tree, "-c", "core.autocrlf=false", "read-tree", "--reset", "-u", commit }, environment, url, imageName, file, line, cancellationToken),
                    "git read-tree", url, imageName, file, line);
                try { Directory.Move(tree, checkout); }
                catch (IOException) when (Directory.Exists(checkout)) { /* another run checked the same commit out first */ }
            }
            finally
            {
                DeleteDirectory(work);
            }
        }

        private static ProcessOutcome Git(IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? extra, GitContextUrl url, string imageName, string? file, int? line,
            CancellationToken cancellationToken)
        {
            var environment = new Dictionary<string, string?>
            {
                ["GIT_TERMINAL_PROMPT"] = "0",
                ["GCM_INTERACTIVE"] = "never",
                ["LC_ALL"] = "C",
            };
            if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("GIT_SSH_COMMAND"))) environment["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes";
            foreach (var pair in extra ?? new Dictionary<string, string?>()) environment[pair.Key] = pair.Value;
            try
            {
                return ProcessRunner.RunAsync("git", arguments, cancellationToken, environment: environment).GetAwaiter().GetResult();
            }
            catch (ImageToolsException e) when (e.ErrorId == "ProgramNotFound")
            {
                throw new ImageToolsException("GitNotFound", FaultKind.ResourceUnavailable,
                    $"{imageName} has a git context ({url.Display}), and reading it needs git, which cannot be started. Install git or put it on PATH.",
                    file, line, imageName, inner: e);
            }
        }

        private static void Require(ProcessOutcome outcome, string step, GitContextUrl url, string imageName, string? file, int? line)
        {
            if (outcome.ExitCode != 0)
                throw new ImageToolsException("GitContextUnreachable", FaultKind.ResourceUnavailable,
                    $"The git context of {imageName}, {url.Display}, could not be checked out ({step}): {Message(url, outcome)} Check the disk and the cache directory.",
                    file, line, imageName);
        }

        private static string Message(GitContextUrl url, ProcessOutcome outcome)
        {
            var text = url.Redact((outcome.StandardError.Length > 0 ? outcome.StandardError : outcome.StandardOutput).Trim());
            var lines = text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
            var joined = lines.Count == 0 ? $"git exited with {outcome.ExitCode}." : string.Join(" ", lines.Take(3));
            return joined.EndsWith(".", StringComparison.Ordinal) ? joined : joined + ".";
        }

        /// <summary>A short, stable name for a repository (its URL without credentials), for cache entries.</summary>
        private static string Key(string displayRemote)
        {
            using var sha = SHA256.Create();
            var bytes = sha.ComputeHash(Encoding.UTF8.GetBytes(displayRemote));
            return string.Concat(bytes.Take(8).Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
        }

        /// <summary>git writes its objects read-only; Windows refuses to delete those until the attribute is cleared.</summary>
        private static void DeleteDirectory(string path)
        {
            if (!Directory.Exists(path)) return;
            try
            {
                if (Path.DirectorySeparatorChar == '\\')
                    foreach (var entry in new DirectoryInfo(path).EnumerateFileSystemInfos("*", SearchOption.AllDirectories))
                        if ((entry.Attributes & FileAttributes.ReadOnly) != 0) entry.Attributes &= ~FileAttributes.ReadOnly;
                Directory.Delete(path, recursive: true);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { /* a leftover .tmp-* is harmless */ }
        }
    }
}
