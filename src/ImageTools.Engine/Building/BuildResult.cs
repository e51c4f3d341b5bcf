using System;
using ImageTools.Graph;

namespace ImageTools.Building
{
    /// <summary>Where an image ended up in a build run (docker-pkg's small state machine, end states).</summary>
    public enum BuildStatus
    {
        /// <summary>Built and verified; its tags point at the new image.</summary>
        Built,
        /// <summary>The build or its verification failed; no tag was moved.</summary>
        Failed,
        /// <summary>Not attempted because an image it needs failed, or the run was stopped.</summary>
        Skipped,
        /// <summary>Not selected for building; the existing image stands.</summary>
        UpToDate,
    }

    /// <summary>One image's outcome: what Invoke-ImageBuild emits and Publish-Image takes.</summary>
    public sealed class BuildResult
    {
        internal BuildResult(ImageNode node, BuildStatus status, string? tagSuffix = null)
        {
            Node = node;
            Status = status;
            Tag = node.Tag + tagSuffix;
        }

        /// <summary>A result for an image that needed no rebuild.</summary>
        internal static BuildResult UpToDate(ImageNode node) => new BuildResult(node, BuildStatus.UpToDate);

        public string Name => Node.Name;
        /// <summary>The tag built: the image's version tag, with the nightly suffix for -Nightly builds.</summary>
        public string Tag { get; }
        public string Reference => Node.ReferenceWithTag(Tag).ToString();
        public BuildStatus Status { get; internal set; }
        /// <summary>The new image's id (<c>sha256:…</c>), once built.</summary>
        public string? ImageId { get; internal set; }
        /// <summary>The local tags moved to the new image (the reference, plus the names children build FROM).</summary>
        public string[] Tags { get; internal set; } = new string[0];
        /// <summary>True when a verify command or test.sh ran and passed; false when there was none to run.</summary>
        public bool Verified { get; internal set; }
        public TimeSpan Duration { get; internal set; }
        public string? LogPath { get; internal set; }
        /// <summary>Why it failed or was skipped.</summary>
        public string? Error { get; internal set; }
        /// <summary>The stable id of the failure (e.g. BuildFailed, VerifyFailed, DependencyFailed).</summary>
        public string? ErrorId { get; internal set; }
        /// <summary>The platform the engine built it for, as the build found it; publishing takes it from here.</summary>
        internal References.ImagePlatform? Platform { get; set; }
        /// <summary>The engine's version, asked once per build run; publishing the results does not ask again.</summary>
        internal string? EngineVersion { get; set; }
        public ImageNode Node { get; }

        public override string ToString() => $"{Reference}: {Status}";
    }

    /// <summary>Milestones of a run, for progress and verbose output.</summary>
    internal sealed class BuildEvent
    {
        public BuildEvent(string name, string message, BuildResult? result = null, bool isWarning = false)
        {
            Name = name;
            Message = message;
            Result = result;
            IsWarning = isWarning;
        }

        /// <summary>Something the user must know that fails nothing (a base that could not be refreshed); said once per run.</summary>
        public bool IsWarning { get; }

        public string Name { get; }
        public string Message { get; }
        /// <summary>Set when the image is finished.</summary>
        public BuildResult? Result { get; }
    }
}
