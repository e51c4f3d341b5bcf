using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Text;
using ImageTools.Planning;

namespace ImageTools.Commands
{
    /// <summary>
    /// Splits the stale images into waves (an image's stale parents are all in earlier waves) and, per
    /// wave, at most -MaximumLegs legs for CI agents, balanced by estimated cost with images that share
    /// a parent kept together. Writes the plan folder (plan.json) that the pipeline hands on as an
    /// artifact, and under Azure Pipelines or GitHub Actions one matrix output per wave.
    /// </summary>
    /// <example>
    /// <code>Get-ImageGraph ./images | Test-ImageNeedsRebuild | Where-Object NeedsRebuild | New-ImageBuildPlan -Path ./plan -MaximumLegs 8</code>
    /// <para>Writes ./plan/plan.json and emits one leg per agent job, wave by wave.</para>
    /// </example>
    /// <example>
    /// <code>Get-ImageGraph ./images | Test-ImageNeedsRebuild | New-ImageBuildPlan -Path ./plan -WhatIf</code>
    /// <para>Shows the legs it would plan and writes nothing. Up-to-date statuses are recorded too, as the parents legs pull by digest.</para>
    /// </example>
    [Cmdlet(VerbsCommon.New, "ImageBuildPlan", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(BuildPlanLeg))]
    public sealed class NewImageBuildPlanCommand : ImageToolsCmdlet
    {
        /// <summary>Rebuild statuses from Test-ImageNeedsRebuild; those that need no rebuild are recorded as up-to-date parents.</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true)]
        [ValidateNotNull]
        public RebuildStatus[] InputObject { get; set; } = null!;

        /// <summary>The plan folder to write (created if missing); plan.json goes in it.</summary>
        [Parameter(Mandatory = true, Position = 0)]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; } = null!;

        /// <summary>At most this many legs (agent jobs) per wave.</summary>
        [Parameter]
        [ValidateRange(1, 256)]
        public int MaximumLegs { get; set; } = 8;

        private readonly List<RebuildStatus> _statuses = new List<RebuildStatus>();

        protected override void ProcessRecord() => _statuses.AddRange(InputObject);

        protected override void EndProcessing()
        {
            var plan = BuildPlanner.Plan(_statuses, MaximumLegs);
            var folder = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
            if (File.Exists(folder))
                ThrowTerminatingError(new ErrorRecord(new IOException($"{folder} is a file; -Path names the plan folder to write."),
                    "PlanPathIsFile", ErrorCategory.InvalidArgument, folder));

            var legCount = plan.Legs.Count();
            if (ShouldProcess(System.IO.Path.Combine(folder, BuildPlanFile.FileName),
                    $"Write a build plan of {plan.Waves.Count} wave(s) and {legCount} leg(s)"))
            {
                var written = BuildPlanFile.Write(plan, folder, DateTimeOffset.UtcNow);
                WriteVerbose($"Wrote {written}: {plan.Waves.Count} wave(s), {legCount} leg(s), {plan.UpToDate.Count} up-to-date image(s).");
                WritePipelineOutputs(plan);
            }
            foreach (var leg in plan.Legs) WriteObject(leg);
        }

        // One output per wave slot (the tree's depth), so a pipeline with a stage per level finds every
        // variable; a wave with nothing stale has 0 legs and an empty matrix.
        private void WritePipelineOutputs(BuildPlan plan)
        {
            var githubOutput = Environment.GetEnvironmentVariable("GITHUB_OUTPUT");
            var github = new StringBuilder();
            for (var wave = 0; wave < plan.WaveSlots; wave++)
            {
                var legs = BuildPlanFile.LegsOf(plan, wave);
                if (AzureDevOps.IsPipeline())
                {
                    Host.UI.WriteLine(AzureDevOps.SetOutputVariable($"wave{wave}", BuildPlanFile.AzureMatrix(legs)));
                    Host.UI.WriteLine(AzureDevOps.SetOutputVariable($"wave{wave}Legs", legs.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                }
                github.Append("wave").Append(wave).Append('=').Append(BuildPlanFile.GitHubMatrix(legs)).Append('\n');
                github.Append("wave").Append(wave).Append("-legs=").Append(legs.Count).Append('\n');
            }
            if (AzureDevOps.IsPipeline())
                Host.UI.WriteLine(AzureDevOps.SetOutputVariable("waveCount", plan.Waves.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            if (!string.IsNullOrEmpty(githubOutput))
            {
                github.Append("wave-count=").Append(plan.Waves.Count).Append('\n');
                File.AppendAllText(githubOutput, github.ToString(), new UTF8Encoding(false));
            }
        }
    }
}
