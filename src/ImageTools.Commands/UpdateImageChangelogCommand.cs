using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using ImageTools.Changelogs;
using ImageTools.Graph;
using ImageTools.Json;

namespace ImageTools.Commands
{
    /// <summary>
    /// Adds a changelog entry to the named images and a cascaded entry to every dependent, as
    /// docker-pkg's <c>update</c> does. All files change, or none.
    /// </summary>
    /// <example>
    /// <code>Update-ImageChangelog -Path ./images -Name base -Reason 'Rebuild for CVE-2026-0001'</code>
    /// <para>Bumps base (0.1.2 becomes 0.1.2-s1) and adds a cascaded entry to every image built on it.</para>
    /// </example>
    /// <example>
    /// <code>Update-ImageChangelog -Path ./images -Name base -Reason 'New upstream' -Version 2.0.0 -WhatIf</code>
    /// <para>Lists every changelog it would change and the version change, and writes nothing.</para>
    /// </example>
    /// <example>
    /// <code>Get-ImageGraph ./images -Name 'php*' | Update-ImageChangelog -Reason 'Rebuild for CVE-2026-0002' | Format-Table Name, OldVersion, NewVersion</code>
    /// <para>Bumps every image whose name starts with php and cascades to their dependents, from images piped in.</para>
    /// </example>
    [Cmdlet(VerbsData.Update, "ImageChangelog", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium,
        DefaultParameterSetName = ByNameSet)]
    [OutputType(typeof(ChangelogUpdate))]
    public sealed class UpdateImageChangelogCommand : ImageToolsCmdlet
    {
        public const string ByNameSet = "ByName";
        public const string ByNodeSet = "ByNode";

        /// <summary>The root of the image tree.</summary>
        [Parameter(Position = 0, ParameterSetName = ByNameSet)]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; } = ".";

        /// <summary>The images to update (wildcards allowed); every dependent gets a cascaded entry.</summary>
        [Parameter(Mandatory = true, Position = 1, ParameterSetName = ByNameSet)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ImageNameCompleter))]
        public string[] Name { get; set; } = null!;

        /// <summary>Images from Get-ImageGraph; their tree is not scanned again.</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ByNodeSet)]
        [ValidateNotNull]
        public ImageNode[] InputObject { get; set; } = null!;

        /// <summary>The change text; each line becomes a line of the entry, indented and without a bullet, as docker-pkg writes it.</summary>
        [Parameter(Mandatory = true)]
        [ValidateNotNullOrEmpty]
        public string Reason { get; set; } = null!;

        /// <summary>The new version of the named images; without it docker-pkg's rule bumps (0.1.2 → 0.1.2-s1).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Version { get; set; }

        /// <summary>Author name; else DEBFULLNAME, git config user.name, the tree's fallback_author.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Author { get; set; }

        /// <summary>Author e-mail; else DEBEMAIL (its address when it reads 'Name &lt;email&gt;'), git config user.email, the tree's fallback_email.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Email { get; set; }

        /// <summary>The distribution field; else the tree's distribution.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Distribution { get; set; }

        /// <summary>The urgency field (docker-pkg writes high).</summary>
        [Parameter]
        [ValidateSet("low", "medium", "high", "emergency", "critical")]
        public string Urgency { get; set; } = "high";

        private readonly List<ImageNode> _nodes = new List<ImageNode>();

        protected override void ProcessRecord()
        {
            if (ParameterSetName == ByNodeSet) _nodes.AddRange(InputObject);
        }

        protected override void EndProcessing()
        {
            ChangelogLock? treeLock = null;
            try { Update(ref treeLock); }
            finally { treeLock?.Dispose(); }
        }

        /// <summary>What makes a rerun the same update: the names asked for and every parameter that shapes the entries.</summary>
        private string RequestKey => JsonValue.Array(
            (Name ?? Array.Empty<string>()).Concat(_nodes.Select(n => n.Name)).OrderBy(n => n, StringComparer.Ordinal).Select(JsonValue.String).Concat(new[]
            {
                JsonValue.String(Reason ?? ""), JsonValue.String(Version ?? ""), JsonValue.String(Distribution ?? ""), JsonValue.String(Urgency ?? ""),
            })).ToJson();

        /// <summary>
        /// Reads the tree, plans and writes under the tree's changelog lock (taken by <paramref name="treeLock"/>), so that a
        /// concurrent run plans on what this one wrote instead of writing over it.
        /// </summary>
        private void Update(ref ChangelogLock? treeLock)
        {
            ChangelogUpdatePlan plan;
            string treeRoot;
            try
            {
                var (graph, selected) = ParameterSetName == ByNodeSet ? TreeSelection.FromNodes(_nodes) : TreeSelection.FromPath(this, Path, Name, StopToken);
                if (selected.Count == 0) return;
                if (!MyInvocation.BoundParameters.ContainsKey("WhatIf"))
                {
                    treeLock = ChangelogLock.Acquire(graph.Tree.Root, ChangelogLock.DefaultWait, StopToken);
                    // A run killed between its renames left a journal: finish its cascade before this one is planned on top.
                    var (completed, interruptedRequest) = ChangelogUpdater.RecoverInterrupted(graph.Tree.Root);
                    foreach (var path in completed)
                        WriteWarning($"{path}: completed the changelog update an interrupted run had begun.");
                    if (interruptedRequest == RequestKey)
                    {
                        // The plain rerun of the killed command: its entries are all written now, and a second cascade would add them twice.
                        WriteWarning("This update was interrupted earlier and is now complete; no further entry was written.");
                        return;
                    }
                    // Read again under the lock: another run may have written since (nodes from the pipeline were read earlier still).
                    var names = selected.Select(n => n.Name).ToList();
                    graph = ImageGraph.Build(Definitions.TreeScanner.Scan(graph.Tree.Root, StopToken));
                    selected = names.Select(n => graph[n]).ToList();
                    ChangelogUpdater.RemoveLeftovers(graph);
                }
                treeRoot = graph.Tree.Root;
                var author = ChangelogAuthor.Resolve(Author, Email, graph.Tree.Config);
                plan = ChangelogUpdater.Plan(graph, new ChangelogUpdateRequest(selected.Select(n => n.Name).ToList(), Reason, author)
                {
                    Version = Version,
                    Distribution = Distribution,
                    Urgency = Urgency,
                });
            }
            catch (ImageToolsException e)
            {
                ThrowTerminating(e);
                return;
            }
            catch (OperationCanceledException)
            {
                return;
            }

            foreach (var warning in plan.Warnings) WriteImageWarning(warning.ToString(), warning.FilePath, warning.Line);
            // All or nothing: one declined file would leave the cascade half-done, so ask per file, then write all.
            var approved = plan.Updates.Where(u => ShouldProcess(u.Path,
                $"Add changelog entry {u.OldVersion ?? "(new file)"} → {u.NewVersion}{(u.Cascaded ? " (cascaded)" : "")}")).ToList();
            if (approved.Count < plan.Updates.Count)
            {
                if (approved.Count > 0)
                    WriteWarning($"{plan.Updates.Count - approved.Count} of {plan.Updates.Count} changelogs were declined; none was changed, so the cascade stays whole.");
                return;
            }
            try { ChangelogUpdater.Apply(plan.Updates, journalPath: ChangelogUpdater.JournalPathFor(treeRoot), requestKey: RequestKey); }
            catch (ImageToolsException e)
            {
                ThrowTerminatingError(ErrorRecords.From(e));
            }
            foreach (var update in plan.Updates)
            {
                WriteVerbose($"{update.Path}: {update.OldVersion ?? "(new)"} → {update.NewVersion}");
                WriteObject(update);
            }
        }

    }
}
