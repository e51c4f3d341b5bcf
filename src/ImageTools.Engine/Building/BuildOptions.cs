using System;
using System.Collections.Generic;

namespace ImageTools.Building
{
    internal sealed class BuildOptions
    {
        /// <summary>How many images build at once.</summary>
        public int ThrottleLimit { get; set; } = 1;
        public bool NoCache { get; set; }
        /// <summary>Pull every external base before building, so a stale local copy is never used.</summary>
        public bool Pull { get; set; }
        /// <summary>Build args over the tree's and the images' own.</summary>
        public IReadOnlyDictionary<string, string> BuildArgs { get; set; } = new Dictionary<string, string>();
        /// <summary>Where per-image build logs go; a fresh temp directory when null.</summary>
        public string? LogDirectory { get; set; }
        /// <summary>A buildx builder for remote BuildKit.</summary>
        public string? Builder { get; set; }
        /// <summary>Appended to every version tag, e.g. docker-pkg's nightly <c>-20261122</c>.</summary>
        public string? TagSuffix { get; set; }
        /// <summary>
        /// Inputs digests already computed this run, by image name (the rebuild check's, or the plan's once
        /// the leg has checked them), computed with <see cref="BuildArgs"/>: stamped as they are, not computed again.
        /// </summary>
        public IReadOnlyDictionary<string, string> InputsDigests { get; set; } = new Dictionary<string, string>();
        /// <summary>Digests the build inputs for the inputs label; one per run so its stat cache is shared.</summary>
        public Planning.BuildInputDigester InputDigester { get; set; } = new Planning.BuildInputDigester();
        /// <summary>
        /// Parents as the rebuild check saw them (<see cref="Planning.RebuildStatus.Parents"/>). A parent
        /// of the tree that this run does not rebuild is pulled by exactly this digest.
        /// </summary>
        public IReadOnlyCollection<Planning.ParentImage> PublishedParents { get; set; } = new Planning.ParentImage[0];
        /// <summary>
        /// Where a parent that is not rebuilt and not in <see cref="PublishedParents"/> is looked up
        /// (once per run): the registry; null when the tree has none, and the local engine must hold it.
        /// </summary>
        public Planning.IPublishedImageSource? ParentSource { get; set; }
        /// <summary>How to start the PowerShell that runs the module, for test.ps1 checks (e.g. <c>dotnet …/pwsh.dll</c>); "pwsh" when null.</summary>
        public IReadOnlyList<string>? PowerShell { get; set; }
        /// <summary>The time each image's build begins, for the build-started label; injectable for tests.</summary>
        public Func<DateTimeOffset> Clock { get; set; } = () => DateTimeOffset.UtcNow;
        /// <summary>When the build started, for the created label; injectable for tests.</summary>
        public DateTimeOffset Now { get; set; } = DateTimeOffset.UtcNow;
    }
}
