using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Engines;
using ImageTools.References;

namespace ImageTools.Docker
{
    /// <summary>
    /// The engine as shipped: builds through the docker CLI when one is on PATH (so buildx and
    /// BuildKit features stay available), everything else through the Engine API, so planning,
    /// tagging, inspecting, pulling and pushing start no docker process.
    /// </summary>
    internal sealed class DockerEngine : IContainerEngine, ILocalImageCatalog, IDisposable
    {
        private readonly IContainerEngine _api;
        private readonly IContainerEngine? _cli;

        /// <param name="api">The API adapter; also builds when <paramref name="cli"/> is null.</param>
        /// <param name="cli">The CLI adapter for builds, or null where no docker CLI exists.</param>
        public DockerEngine(IContainerEngine api, IContainerEngine? cli)
        {
            _api = api;
            _cli = cli;
        }

        /// <summary>Which adapter builds, for messages and tests.</summary>
        public bool BuildsThroughCli => _cli != null;

        public IReadOnlyDictionary<string, string?> ClientEnvironment => (_cli ?? _api).ClientEnvironment;

        public Task<string> GetVersionAsync(CancellationToken cancellationToken) => _api.GetVersionAsync(cancellationToken);
        public Task CheckBuilderAsync(string builder, CancellationToken cancellationToken) => (_cli ?? _api).CheckBuilderAsync(builder, cancellationToken);
        public Task<string> BuildAsync(BuildRequest request, CancellationToken cancellationToken) => (_cli ?? _api).BuildAsync(request, cancellationToken);
        public Task TagAsync(string image, string reference, CancellationToken cancellationToken) => _api.TagAsync(image, reference, cancellationToken);
        public Task<ImageInspection?> InspectAsync(string image, CancellationToken cancellationToken) => _api.InspectAsync(image, cancellationToken);
        public Task PullAsync(string reference, ImagePlatform? platform, CancellationToken cancellationToken) => _api.PullAsync(reference, platform, cancellationToken);
        public Task PushAsync(string reference, CancellationToken cancellationToken) => _api.PushAsync(reference, cancellationToken);
        public Task RemoveAsync(string image, CancellationToken cancellationToken) => _api.RemoveAsync(image, cancellationToken);
        public Task SaveAsync(string reference, string path, CancellationToken cancellationToken) => _api.SaveAsync(reference, path, cancellationToken);

        /// <summary>Through the Engine API like the rest (no docker process); an API adapter that cannot list falls back to the CLI.</summary>
        public Task<IReadOnlyList<string>> ListTagsAsync(string repository, CancellationToken cancellationToken) =>
            (_api as ILocalImageCatalog ?? _cli as ILocalImageCatalog ?? throw new ImageToolsException("ImageListUnsupported", FaultKind.ResourceUnavailable,
                "This engine cannot list its local images."))
            .ListTagsAsync(repository, cancellationToken);

        public void Dispose()
        {
            (_api as IDisposable)?.Dispose();
            (_cli as IDisposable)?.Dispose();
        }

        /// <summary>The docker CLI's full path when one is on <paramref name="path"/> (PATH by default), else null.</summary>
        public static string? FindCli(string? path = null)
        {
            var windows = RuntimeInformation.IsOSPlatform(OSPlatform.Windows);
            foreach (var directory in (path ?? Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
            {
                if (directory.Length == 0) continue;
                var candidate = Path.Combine(directory, windows ? "docker.exe" : "docker");
                if (File.Exists(candidate)) return candidate;
            }
            return null;
        }
    }
}
