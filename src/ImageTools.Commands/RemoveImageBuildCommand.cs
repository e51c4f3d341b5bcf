using System;
using System.Globalization;
using System.Management.Automation;
using System.Threading.Tasks;
using ImageTools.Engines;
using ImageTools.Pruning;

namespace ImageTools.Commands
{
    /// <summary>
    /// Removes old local builds of the tree's images (docker-pkg's prune): every local tag of an image's repository that is
    /// not its current version, latest or an extra tag, nor anything a current image of the tree was built on.
    /// </summary>
    /// <remarks>
    /// What a current image builds on is read from its io.imagetools.parents label, so a parent version that an image still
    /// pins stays. Only tags are removed; the engine deletes an image once its last tag is gone (an image a container uses
    /// stays, and is reported as an error). Local images are listed through the Engine API: no docker CLI is needed.
    /// </remarks>
    /// <example>
    /// <code>Remove-ImageBuild -Path ./images -WhatIf</code>
    /// <para>Lists every old local build of the tree that would be removed, and removes nothing.</para>
    /// </example>
    /// <example>
    /// <code>Get-Item ./images | Remove-ImageBuild -Name 'php*' -Nightly</code>
    /// <para>Removes the nightly builds (tags VERSION-yyyyMMdd) of the php images, and nothing else.</para>
    /// </example>
    /// <example>
    /// <code>Remove-ImageBuild ./images -NightlyDate 20261122 -Confirm:$false</code>
    /// <para>Removes the nightly builds of 22 November 2026 of every image of the tree (docker-pkg prune --nightly 20261122).</para>
    /// </example>
    /// <example>
    /// <code>Remove-ImageBuild ./images -KeepNightlyDate (Get-Date -Format yyyyMMdd) -Confirm:$false</code>
    /// <para>Removes every old build and every nightly build but today's (docker-pkg prune --nightly ID keeps that nightly).</para>
    /// </example>
    [Cmdlet(VerbsCommon.Remove, "ImageBuild", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(PrunedImage))]
    public sealed class RemoveImageBuildCommand : ImageToolsCmdlet
    {
        /// <summary>The root of the image tree.</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("FullName")]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; } = ".";

        /// <summary>Only the images whose names match (wildcards allowed); the whole tree still protects what its images build on.</summary>
        [Parameter(Position = 1)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ImageNameCompleter))]
        public string[]? Name { get; set; }

        /// <summary>Remove only nightly builds (tags VERSION-yyyyMMdd that Invoke-ImageBuild -Nightly makes).</summary>
        [Parameter]
        public SwitchParameter Nightly { get; set; }

        /// <summary>Remove only the nightly builds of this date (yyyyMMdd, docker-pkg's --nightly ID); implies -Nightly.</summary>
        [Parameter]
        [ValidatePattern(@"^\d{8}$")]
        public string? NightlyDate { get; set; }

        /// <summary>Keep the nightly builds of this date (yyyyMMdd) whatever else goes: docker-pkg's prune --nightly ID, which keeps that build.</summary>
        [Parameter]
        [ValidatePattern(@"^\d{8}$")]
        public string? KeepNightlyDate { get; set; }

        protected override void EndProcessing()
        {
            try
            {
                foreach (var (parameter, value) in new[] { ("NightlyDate", NightlyDate), ("KeepNightlyDate", KeepNightlyDate) })
                    if (value != null && !DateTime.TryParseExact(value, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
                        throw new ImageToolsException("NightlyDateInvalid", FaultKind.InvalidArgument,
                            $"-{parameter} {value} is not a date; give it as yyyyMMdd (20261122), as the nightly tags carry it.");
                var (graph, selected) = TreeSelection.FromPath(this, Path, Name, StopToken);
                if (selected.Count == 0) return;
                var engine = Docker.Api.DockerEngineFactory.Create();
                using var engineLifetime = engine as IDisposable;
                var catalog = engine as ILocalImageCatalog ?? throw new ImageToolsException("ImageListUnsupported", FaultKind.ResourceUnavailable,
                    "This engine cannot list its local images.");
                var pruner = new ImagePruner(engine, catalog);
                var options = new PruneOptions { NightlyOnly = Nightly || NightlyDate != null, NightlyDate = NightlyDate, KeepNightlyDate = KeepNightlyDate };
                var candidates = Task.Run(() => pruner.PlanAsync(graph, selected, options, StopToken)).GetAwaiter().GetResult();
                WriteVerbose($"{candidates.Count} old local builds of {selected.Count} images");
                foreach (var candidate in candidates)
                {
                    if (!ShouldProcess(candidate.Reference, "Remove local image")) continue;
                    try
                    {
                        Task.Run(() => pruner.RemoveAsync(candidate, StopToken)).GetAwaiter().GetResult();
                        WriteObject(candidate.ToResult());
                    }
                    catch (ImageToolsException e)
                    {
                        WriteImageError(new ImageToolsException("ImageRemoveFailed", e.Kind,
                            $"{candidate.Reference} was not removed: {e.Reason}", imageName: candidate.Node.Name, inner: e));
                    }
                }
            }
            catch (ImageToolsException e) { ThrowTerminating(e); }
            catch (OperationCanceledException) { }
        }
    }
}
