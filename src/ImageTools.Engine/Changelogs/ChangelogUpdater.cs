using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using ImageTools.Definitions;
using ImageTools.Formats.Changelogs;
using ImageTools.Graph;
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
        /// replaced are restored, so the tree is left as it was or fully updated.
        /// </summary>
        public static void Apply(IReadOnlyList<ChangelogUpdate> updates, IChangelogFileSystem? fileSystem = null)
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
                throw WriteFailed(e, staged[replaced.Count].Update.Path);
            }
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
