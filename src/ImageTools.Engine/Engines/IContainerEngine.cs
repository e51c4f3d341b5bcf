using System;
using System.Collections.Generic;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.References;

namespace ImageTools.Engines
{
    /// <summary>Everything a build needs from the engine.</summary>
    internal sealed class BuildRequest
    {
        public BuildRequest(string imageName, string contextPath, string dockerfileText)
        {
            ImageName = imageName;
            ContextPath = contextPath;
            DockerfileText = dockerfileText;
        }

        /// <summary>For messages only.</summary>
        public string ImageName { get; }
        public string ContextPath { get; }
        /// <summary>The rendered Dockerfile; the engine writes it to a temporary file.</summary>
        public string DockerfileText { get; }
        public IReadOnlyDictionary<string, string> BuildArgs { get; set; } = new Dictionary<string, string>();
        public IReadOnlyDictionary<string, string> Labels { get; set; } = new Dictionary<string, string>();
        public string? Target { get; set; }
        public IReadOnlyList<string> Platforms { get; set; } = Array.Empty<string>();
        public bool NoCache { get; set; }
        /// <summary>A buildx builder (remote BuildKit), when buildx is present.</summary>
        public string? Builder { get; set; }
        /// <summary>The build's full output goes here, line by line.</summary>
        public string? LogPath { get; set; }
        /// <summary>
        /// The Dockerfile (or template) the image is defined by, on disk: the context's file list leaves
        /// it out, as the inputs digest does (it counts as <see cref="DockerfileText"/>).
        /// </summary>
        public string? DockerfilePath { get; set; }
        /// <summary>Each build step as it starts ("Step 2/4 : RUN make"), for progress and verbose output.</summary>
        public IProgress<string>? Steps { get; set; }
    }

    /// <summary>What the engine says about an image it holds.</summary>
    internal sealed class ImageInspection
    {
        public ImageInspection(string id, IReadOnlyDictionary<string, string> labels, IReadOnlyList<string> repoTags, IReadOnlyList<string> repoDigests,
            ImagePlatform? platform = null)
        {
            Id = id;
            Platform = platform;
            Labels = labels;
            RepoTags = repoTags;
            RepoDigests = repoDigests;
        }

        /// <summary>The image id (config digest), <c>sha256:…</c>.</summary>
        public string Id { get; }
        public IReadOnlyDictionary<string, string> Labels { get; }
        public IReadOnlyList<string> RepoTags { get; }
        public IReadOnlyList<string> RepoDigests { get; }
        /// <summary>The platform the image is for (its config's os, architecture and variant), when the engine says.</summary>
        public ImagePlatform? Platform { get; }
    }

    /// <summary>
    /// The container engine behind builds: Docker through its Engine API and CLI (DockerEngine), or
    /// Podman's Docker-compatible service through the same API adapter.
    /// </summary>
    internal interface IContainerEngine
    {
        /// <summary>
        /// Checks the engine answers (else <c>EngineUnavailable</c>) and identifies images by config digest,
        /// as this tool's decisions need (else <c>ImageStoreUnsupported</c>).
        /// </summary>
        Task<string> GetVersionAsync(CancellationToken cancellationToken);

        /// <summary>Checks that builds can go to the named builder (remote BuildKit); throws a clear error otherwise.</summary>
        Task CheckBuilderAsync(string builder, CancellationToken cancellationToken);

        /// <summary>Builds without tagging and returns the image id: tags are applied only after verification.</summary>
        Task<string> BuildAsync(BuildRequest request, CancellationToken cancellationToken);

        Task TagAsync(string image, string reference, CancellationToken cancellationToken);

        /// <summary>Null when the engine has no such image.</summary>
        Task<ImageInspection?> InspectAsync(string image, CancellationToken cancellationToken);

        /// <summary>Pulls <paramref name="reference"/>; for <paramref name="platform"/> when given, else for the engine's own.</summary>
        Task PullAsync(string reference, ImagePlatform? platform, CancellationToken cancellationToken);

        /// <summary>Pushes the image under <paramref name="reference"/> to its registry.</summary>
        Task PushAsync(string reference, CancellationToken cancellationToken);

        Task RemoveAsync(string image, CancellationToken cancellationToken);

        /// <summary>Writes the image (with its tag) as a docker-archive tar that <c>docker load</c> reads.</summary>
        Task SaveAsync(string reference, string path, CancellationToken cancellationToken);

        /// <summary>The environment a verify command needs to reach the same engine (DOCKER_HOST and friends).</summary>
        IReadOnlyDictionary<string, string?> ClientEnvironment { get; }
    }

    /// <summary>What build output lines mean, for every builder.</summary>
    internal static class BuildOutput
    {
        // The classic builder: "Step 2/4 : RUN make"; buildah (Podman): "STEP 2/4: RUN make", in a
        // multi-stage build "[1/2] STEP 2/4: RUN make"; BuildKit's plain progress: "#7 [2/4] RUN make".
        private static readonly Regex Step = new Regex(@"^(Step \d+/\d+ : |(\[\d+/\d+\] )?STEP \d+/\d+: |#\d+ \[[^\]]+\] )", RegexOptions.CultureInvariant);

        /// <summary>True when the line says a build step starts.</summary>
        public static bool IsStep(string line) => Step.IsMatch(line);
    }
}
