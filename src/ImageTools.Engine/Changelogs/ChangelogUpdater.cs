using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using ImageTools.Definitions;
using ImageTools.Formats.Changelogs;
using ImageTools.Graph;
using ImageTools.Json;
using ImageTools.References;

namespace ImageTools.Changelogs
{
    /// <summary>What Update-ImageChangelog was asked to do.</summary>
    internal sealed class ChangelogUpdateRequest
    {
        public ChangelogUpdateRequest(IReadOnlyList<string> names, string reason, ChangelogAuthor author)
        {
            Names = names;
            Reason = reason;
            Author = author;
        }

        /// <summary>The images being updated (exact names); their dependents are cascaded.</summary>
        public IReadOnlyList<string> Names { get; }
        public string Reason { get; }
        public ChangelogAuthor Author { get; }
        /// <summary>New version for the named images; null applies the update rule.</summary>
        public string? Version { get; set; }
        /// <summary>Null takes the tree's configured distribution.</summary>
        public string? Distribution { get; set; }
        /// <summary>docker-pkg marks updates urgency=high.</summary>
        public string Urgency { get; set; } = "high";
        public DateTimeOffset Date { get; set; } = DateTimeOffset.Now;
    }

    /// <summary>One changelog that an update changes: what Update-ImageChangelog emits.</summary>
    public sealed class ChangelogUpdate
    {
        internal ChangelogUpdate(string name, string? oldVersion, string newVersion, string path, string reason, bool cascaded, bool createsFile, string newText)
        {
            Name = name;
            OldVersion = oldVersion;
            NewVersion = newVersion;
            Path = path;
            Reason = reason;
            Cascaded = cascaded;
            CreatesFile = createsFile;
            NewText = newText;
        }

        public string Name { get; }
        public string? OldVersion { get; }
        public string NewVersion { get; }
        public string Path { get; }
        /// <summary>The change text of the new entry.</summary>
        public string Reason { get; }
        /// <summary>True for a dependent updated because a parent was.</summary>
        public bool Cascaded { get; }
        public bool CreatesFile { get; }
        internal string NewText { get; }
    }

    internal sealed class ChangelogUpdatePlan
    {
        internal ChangelogUpdatePlan(IReadOnlyList<ChangelogUpdate> updates, IReadOnlyList<TreeWarning> warnings)
        {
            Updates = updates;
            Warnings = warnings;
        }

        /// <summary>In build order, each image once.</summary>
        public IReadOnlyList<ChangelogUpdate> Updates { get; }
        public IReadOnlyList<TreeWarning> Warnings { get; }
    }

    /// <summary>
    /// docker-pkg's <c>update</c>: a new entry for the named images and a cascaded one for every
    /// dependent. Everything is computed (and every version checked) before any file is written.
    /// </summary>
    internal static class ChangelogUpdater
    {
        public static ChangelogUpdatePlan Plan(ImageGraph graph, ChangelogUpdateRequest request)
        {
            if (string.IsNullOrWhiteSpace(request.Reason))
                throw new ImageToolsException("ReasonMissing", FaultKind.InvalidArgument, "An update needs a reason: pass -Reason with the change text.");
            var named = request.Names.Select(n => graph[n]).Distinct().ToList();
            var namedSet = new HashSet<ImageNode>(named);
            var dependents = graph.InBuildOrder(named.SelectMany(graph.AllDependentsOf).Where(n => !namedSet.Contains(n)));
            var config = graph.Tree.Config;
            var distribution = request.Distribution ?? config.Distribution;
            var updates = new List<ChangelogUpdate>();
            var warnings = new List<TreeWarning>();
            var errors = new List<ImageToolsException>();

            foreach (var node in graph.InBuildOrder(named))
            {
                try { updates.Add(Update(node, request.Version, request.Reason, cascaded: false, request, distribution, config)); }
                catch (ImageToolsException e) { errors.Add(e); }
            }
            foreach (var node in dependents)
            {
                if (node.Definition.Changelog == null)
                {
                    warnings.Add(new TreeWarning(
                        $"'{node.Name}' depends on an updated image but has no changelog, so it gets no new version; it will be rebuilt for its parent all the same.",
                        node.Directory, imageName: node.Name));
                    continue;
                }
                var ancestors = new HashSet<ImageNode>(graph.AllDependenciesOf(node));
                var parents = named.Where(ancestors.Contains).Select(n => n.Name);
                var reason = $"Refresh for update in parent image {string.Join(", ", parents)}:\n{request.Reason}";
                try { updates.Add(Update(node, null, reason, cascaded: true, request, distribution, config)); }
                catch (ImageToolsException e) { errors.Add(e); }
            }
            if (errors.Count > 0) throw new ImageTreeException(graph.Tree.Root, errors);
            return new ChangelogUpdatePlan(updates, warnings);
        }

        private static ChangelogUpdate Update(ImageNode node, string? explicitVersion, string reason, bool cascaded,
            ChangelogUpdateRequest request, string distribution, TreeConfig config)
        {
            var image = node.Definition;
            var changelog = image.Changelog;
            var path = image.ChangelogPath ?? System.IO.Path.Combine(image.Directory, TreeScanner.ChangelogName);
            if (changelog == null && explicitVersion == null)
                throw new ImageToolsException("ChangelogMissing", FaultKind.ObjectNotFound,
                    $"'{node.Name}' has no changelog to update. Pass -Version to create one with that version.",
                    path, imageName: node.Name);

            var oldVersion = changelog?.Latest.Version;
            var newVersion = explicitVersion ?? VersionBump.Next(oldVersion!, config.UpdateId, path, node.Name);
            CheckNewVersion(node.Name, oldVersion, newVersion, path);
            var package = changelog?.Latest.Package ?? node.Name;
            var entry = ChangelogFormat.FormatEntry(package, newVersion, distribution, request.Urgency,
                reason.Replace("\r\n", "\n").Split('\n'), request.Author.Name, request.Author.Email, request.Date);
            var newText = changelog == null ? entry
                : changelog.Preamble + entry + changelog.Text.Substring(changelog.Preamble.Length);
            return new ChangelogUpdate(node.Name, oldVersion, newVersion, path, reason, cascaded, changelog == null, newText);
        }

        private static void CheckNewVersion(string name, string? oldVersion, string newVersion, string path)
        {
            if (!ImageReference.IsValidTag(newVersion))
                throw new ImageToolsException("InvalidVersion", FaultKind.InvalidArgument,
                    $"'{newVersion}' cannot be an image tag. Use letters, digits, '.', '_' and '-' only.", path, imageName: name);
            DebianVersion.Parse(newVersion);
            if (oldVersion != null && DebianVersion.Compare(DebianVersion.Parse(oldVersion), DebianVersion.Parse(newVersion)) >= 0)
                throw new ImageToolsException("VersionNotNewer", FaultKind.InvalidArgument,
                    $"The new version '{newVersion}' of '{name}' is not newer than its current '{oldVersion}'. Pass a higher -Version.",
                    path, imageName: name);
        }

        /// <summary>
        /// Writes every changelog of <paramref name="updates"/>: all new contents go to temp files
        /// first, then each is renamed over its target; if a rename fails, the ones already
        /// replaced are restored, so the tree is left as it was or fully updated. With a
        /// <paramref name="journalPath"/>, the list of staged files is written there before the first
        /// rename and removed after the last, so that a run killed between renames (no catch block runs)
        /// is completed by the next one (<see cref="RecoverInterrupted"/>) instead of leaving the cascade half-applied.
        /// </summary>
        public static void Apply(IReadOnlyList<ChangelogUpdate> updates, IChangelogFileSystem? fileSystem = null, string? journalPath = null,
            string? requestKey = null)
        {
            fileSystem ??= ChangelogFileSystem.Instance;
            var staged = new List<(ChangelogUpdate Update, string Temp)>();
            try
            {
                foreach (var update in updates)
                {
                    var temp = AtomicFile.TempPathFor(update.Path);
                    staged.Add((update, temp));
                    fileSystem.WriteAllText(temp, update.NewText);
                }
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                foreach (var (_, temp) in staged) fileSystem.DeleteIfExists(temp);
                throw WriteFailed(e, staged.Last().Update.Path);
            }

            if (journalPath != null)
            {
                try { WriteJournal(fileSystem, journalPath, requestKey ?? "", staged.Select(s => (s.Temp, s.Update.Path))); }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    foreach (var (_, temp) in staged) fileSystem.DeleteIfExists(temp);
                    throw WriteFailed(e, journalPath);
                }
            }

            var replaced = new List<(ChangelogUpdate Update, string? Original)>();
            try
            {
                foreach (var (update, temp) in staged)
                {
                    var original = update.CreatesFile ? null : fileSystem.ReadAllText(update.Path);
                    fileSystem.Replace(temp, update.Path);
                    replaced.Add((update, original));
                }
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                foreach (var (update, original) in replaced)
                {
                    if (original == null) fileSystem.DeleteIfExists(update.Path);
                    else fileSystem.WriteAllText(update.Path, original);
                }
                foreach (var (_, temp) in staged) fileSystem.DeleteIfExists(temp);
                if (journalPath != null) fileSystem.DeleteIfExists(journalPath);
                throw WriteFailed(e, staged[replaced.Count].Update.Path);
            }
            if (journalPath != null) fileSystem.DeleteIfExists(journalPath);
        }

        /// <summary>The journal of the tree's changelog writes, beside its lock: staged file and target, one pair per changelog.</summary>
        public static string JournalPathFor(string treeRoot) => Path.Combine(treeRoot, ".imagetools-changelog.journal");

        private static void WriteJournal(IChangelogFileSystem fileSystem, string journalPath, string requestKey, IEnumerable<(string Temp, string Target)> pairs)
        {
            var journal = JsonValue.Object(
                ("request", JsonValue.String(requestKey)),
                ("files", JsonValue.Array(pairs.Select(p => JsonValue.Object(("staged", JsonValue.String(p.Temp)), ("target", JsonValue.String(p.Target)))))));
            // Whole or absent: the journal itself lands by a rename, after every staged file is on disk.
            var temp = AtomicFile.TempPathFor(journalPath);
            fileSystem.WriteAllText(temp, journal.ToIndentedJson());
            fileSystem.Replace(temp, journalPath);
        }

        /// <summary>
        /// Completes the changelog writes of a run killed between its renames: every staged file the journal
        /// lists that is still there is renamed over its target (the ones already renamed are gone), then the
        /// journal is removed. Call it under the tree's changelog lock, before the tree is read. Returns the
        /// changelogs it completed and the interrupted run's request key (null without a journal), so that a
        /// plain rerun of the same command can tell that its work is now done. A journal that cannot be read is
        /// an error naming it: it is never guessed at.
        /// </summary>
        public static (IReadOnlyList<string> Completed, string? RequestKey) RecoverInterrupted(string treeRoot, IChangelogFileSystem? fileSystem = null)
        {
            fileSystem ??= ChangelogFileSystem.Instance;
            var journalPath = JournalPathFor(treeRoot);
            // A run killed while writing its journal renamed no changelog: its temporary journal is nobody's under the lock.
            foreach (var partial in Directory.EnumerateFiles(treeRoot, Path.GetFileName(journalPath) + ".tmp-*"))
            {
                try { File.Delete(partial); }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { }
            }
            if (!File.Exists(journalPath)) return (Array.Empty<string>(), null);
            var completed = new List<string>();
            string requestKey;
            try
            {
                var journal = JsonValue.Parse(fileSystem.ReadAllText(journalPath));
                requestKey = journal["request"]?.AsString ?? throw new FormatException("no 'request'");
                var files = journal["files"] ?? throw new FormatException("no 'files'");
                foreach (var pair in files.Items)
                {
                    var staged = pair["staged"]?.AsString;
                    var target = pair["target"]?.AsString;
                    if (staged == null || target == null) throw new FormatException("an entry without 'staged' and 'target'");
                    if (!File.Exists(staged)) continue;
                    fileSystem.Replace(staged, target);
                    completed.Add(target);
                }
            }
            catch (Exception e) when (e is FormatException || e is ImageToolsException || e is InvalidOperationException)
            {
                throw new ImageToolsException("ChangelogJournalInvalid", FaultKind.InvalidData,
                    $"The journal of an interrupted changelog update cannot be read ({e.Message}). Check the changelogs it names, then delete it and run again.",
                    journalPath, inner: e);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new ImageToolsException("ChangelogWriteFailed", FaultKind.ResourceUnavailable,
                    $"Could not complete the interrupted changelog update this journal lists ({e.Message}). Check free disk space and permissions, then run again.",
                    journalPath, inner: e);
            }
            fileSystem.DeleteIfExists(journalPath);
            return (completed, requestKey);
        }

        /// <summary>
        /// Removes the staged changelog files (<c>changelog.tmp-*</c>) a killed run left in the tree's image
        /// directories: SIGKILL runs no clean-up, and only the holder of the tree's changelog lock
        /// (<see cref="ChangelogLock"/>) writes them, so under the lock they are nobody's. A file that cannot
        /// be removed is left; it is never read.
        /// </summary>
        public static void RemoveLeftovers(ImageGraph graph)
        {
            foreach (var node in graph.Nodes)
            {
                var changelog = node.Definition.ChangelogPath ?? Path.Combine(node.Definition.Directory, "changelog");
                var directory = Path.GetDirectoryName(changelog);
                if (directory == null || !Directory.Exists(directory)) continue;
                foreach (var leftover in Directory.EnumerateFiles(directory, Path.GetFileName(changelog) + ".tmp-*"))
                {
                    try { File.Delete(leftover); }
                    catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { }
                }
            }
        }

        private static ImageToolsException WriteFailed(Exception e, string path) =>
            new ImageToolsException("ChangelogWriteFailed", FaultKind.ResourceUnavailable,
                $"Could not write the changelog ({e.Message}); no changelog was changed. Check free disk space and permissions, then run again.",
                path, inner: e);
    }
}
