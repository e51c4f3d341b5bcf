using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Engines;
using ImageTools.References;

namespace ImageTools.Tests.Fakes
{
    /// <summary>
    /// An in-memory container engine for the fast tier: it records every call in order, builds
    /// instantly (or when a test opens the image's gate), and fails where the test scripted it.
    /// Waits honour cancellation as the real engine does, so stops can be tested without Docker.
    /// </summary>
    internal sealed class FakeContainerEngine : IContainerEngine
    {
        private readonly object _gate = new object();
        private readonly Dictionary<string, string> _tags = new Dictionary<string, string>(StringComparer.Ordinal);
        private readonly Dictionary<string, byte[]> _configs = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        private readonly Dictionary<string, string[]> _layers = new Dictionary<string, string[]>(StringComparer.Ordinal);
        private readonly Dictionary<string, IReadOnlyDictionary<string, string>> _labels = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, string> _buildFailures = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, TaskCompletionSource<bool>> _buildGates = new ConcurrentDictionary<string, TaskCompletionSource<bool>>(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, TaskCompletionSource<bool>> _buildStarted = new ConcurrentDictionary<string, TaskCompletionSource<bool>>(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, string> _tagFailures = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        private readonly List<string> _calls = new List<string>();
        private readonly ConcurrentDictionary<string, string> _newerInRegistry = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, string> _pullFailures = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, string> _dockerfiles = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        private int _running;
        private int _maxRunning;

        public FakeContainerEngine(params string[] heldImages)
        {
            foreach (var reference in heldImages) Hold(reference);
        }

        /// <summary>Every call, in order: "build NAME", "tag ID REF", "push REF", "pull REF", "inspect REF", "remove REF", "save REF".</summary>
        public IReadOnlyList<string> Calls { get { lock (_gate) return _calls.ToList(); } }

        /// <summary>The references tagged, in order.</summary>
        public IReadOnlyList<string> Tagged => Calls.Where(c => c.StartsWith("tag ", StringComparison.Ordinal)).Select(c => c.Split(' ')[2]).ToList();

        /// <summary>The image names built (started), in order.</summary>
        public IReadOnlyList<string> Built => Calls.Where(c => c.StartsWith("build ", StringComparison.Ordinal)).Select(c => c.Substring(6)).ToList();

        /// <summary>The most builds that ran at the same moment.</summary>
        public int MaxConcurrentBuilds => Volatile.Read(ref _maxRunning);
        /// <summary>The last build request of each image, by name.</summary>
        public System.Collections.Concurrent.ConcurrentDictionary<string, BuildRequest> Requests { get; } =
            new System.Collections.Concurrent.ConcurrentDictionary<string, BuildRequest>(StringComparer.Ordinal);

        /// <summary>Called at each tag (reference), before it is applied; a test checks what must already be true.</summary>
        public Action<string>? BeforeTag { get; set; }

        public IReadOnlyDictionary<string, string?> ClientEnvironment { get; } = new Dictionary<string, string?>();

        /// <summary>The engine holds an image under this reference (as if pulled or loaded earlier).</summary>
        /// <summary>
        /// An image in the engine under <paramref name="reference"/>; <paramref name="layers"/> are the
        /// contents of its layers (saved uncompressed, as the classic image store does), base first.
        /// </summary>
        public string Hold(string reference, params string[] layers)
        {
            var id = IdFor("held " + reference);
            lock (_gate)
            {
                _tags[reference] = id;
                _layers[id] = layers;
            }
            return id;
        }

        /// <summary>The image's build fails with BuildFailed and this message.</summary>
        public void FailBuild(string imageName, string message = "The command '/bin/sh -c false' returned a non-zero code: 1") =>
            _buildFailures[imageName] = message;

        /// <summary>The engine stops answering while this image builds: its build fails with EngineUnavailable.</summary>
        public void LoseEngineDuring(string imageName) => _engineLosses[imageName] = true;

        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _engineLosses =
            new System.Collections.Concurrent.ConcurrentDictionary<string, bool>(StringComparer.Ordinal);

        /// <summary>The image's build waits until <see cref="Release"/> (or cancellation).</summary>
        public void HoldBuild(string imageName) => _buildGates[imageName] = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release(string imageName) => _buildGates[imageName].TrySetResult(true);

        /// <summary>Completes when the image's build has started.</summary>
        public Task BuildStarted(string imageName) => Started(imageName).Task;

        public void FailTag(string reference, string message = "tag refused") => _tagFailures[reference] = message;

        public string? TagTarget(string reference) { lock (_gate) return _tags.TryGetValue(reference, out var id) ? id : null; }

        public IReadOnlyDictionary<string, string> LabelsOf(string imageId) { lock (_gate) return _labels[imageId]; }

        /// <summary>The Dockerfile text the image's last build was given.</summary>
        public string DockerfileOf(string imageName) => _dockerfiles[imageName];

        public int CallCount(string prefix) => Calls.Count(c => c.StartsWith(prefix, StringComparison.Ordinal));

        public Task<string> GetVersionAsync(CancellationToken cancellationToken)
        {
            Record("version");
            return Task.FromResult("fake 1.0");
        }

        public Task CheckBuilderAsync(string builder, CancellationToken cancellationToken)
        {
            Record("builder " + builder);
            return Task.CompletedTask;
        }

        public async Task<string> BuildAsync(BuildRequest request, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Record("build " + request.ImageName);
            Requests[request.ImageName] = request;
            _dockerfiles[request.ImageName] = request.DockerfileText;
            var running = Interlocked.Increment(ref _running);
            for (var max = Volatile.Read(ref _maxRunning); running > max; max = Volatile.Read(ref _maxRunning))
                if (Interlocked.CompareExchange(ref _maxRunning, running, max) == max) break;
            try
            {
                Started(request.ImageName).TrySetResult(true);
                if (_buildGates.TryGetValue(request.ImageName, out var gate)) await gate.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
                else await Task.Yield();
                if (_engineLosses.ContainsKey(request.ImageName))
                    throw new ImageToolsException("EngineUnavailable", FaultKind.ResourceUnavailable,
                        "The Docker engine does not answer at unix:///run/fake.sock: connection refused.", imageName: request.ImageName);
                if (_buildFailures.TryGetValue(request.ImageName, out var message))
                    throw new ImageToolsException("BuildFailed", FaultKind.InvalidOperation, $"Building '{request.ImageName}' failed: {message}", imageName: request.ImageName);
                var id = IdFor("built " + request.ImageName + " " + Guid.NewGuid());
                lock (_gate) _labels[id] = request.Labels;
                return id;
            }
            finally
            {
                Interlocked.Decrement(ref _running);
            }
        }

        public Task TagAsync(string image, string reference, CancellationToken cancellationToken)
        {
            Record($"tag {image} {reference}");
            BeforeTag?.Invoke(reference);
            if (_tagFailures.TryGetValue(reference, out var message))
                throw new ImageToolsException("TagFailed", FaultKind.InvalidOperation, $"Tagging {reference} failed: {message}");
            lock (_gate) _tags[reference] = _tags.TryGetValue(image, out var id) ? id : image;
            return Task.CompletedTask;
        }

        public Task<ImageInspection?> InspectAsync(string image, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Record("inspect " + image);
            lock (_gate)
            {
                // As docker inspects an image by its id too, whether built here or only tagged (held).
                var id = _tags.TryGetValue(image, out var tagged) ? tagged : _labels.ContainsKey(image) || _tags.ContainsValue(image) ? image : null;
                if (id == null) return Task.FromResult<ImageInspection?>(null);
                var labels = _labels.TryGetValue(id, out var l) ? l : new Dictionary<string, string>();
                var repoTags = _tags.Where(t => t.Value == id).Select(t => t.Key).ToList();
                return Task.FromResult<ImageInspection?>(new ImageInspection(id, labels, repoTags, Array.Empty<string>(), new ImagePlatform("linux", "amd64")));
            }
        }

        public Task PullAsync(string reference, ImagePlatform? platform, CancellationToken cancellationToken)
        {
            Record("pull " + reference);
            if (_pullFailures.TryGetValue(reference, out var failure))
                throw new ImageToolsException("PullFailed", FaultKind.ResourceUnavailable, $"Pulling {reference} failed: {failure}");
            lock (_gate)
            {
                if (_newerInRegistry.TryRemove(reference, out var newer)) _tags[reference] = newer;
                else if (!_tags.ContainsKey(reference)) _tags[reference] = IdFor("pulled " + reference);
            }
            return Task.CompletedTask;
        }

        /// <summary>The registry holds a newer image under <paramref name="reference"/>: the next pull moves the local tag to it (its id returned).</summary>
        public string NewerInRegistry(string reference) => _newerInRegistry[reference] = IdFor("newer " + reference + " " + Guid.NewGuid());

        public void FailPull(string reference, string message = "connection refused") => _pullFailures[reference] = message;

        public async Task PushAsync(string reference, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Record("push " + reference);
            await Task.Yield();
            // Publishing uploads through the registry client (RegistryPublisherRuleTests); a push only checks the image is there.
            if (TagTarget(reference) == null) throw new ImageToolsException("ImageNotFound", FaultKind.ObjectNotFound, $"No such image: {reference}");
        }

        public Task RemoveAsync(string image, CancellationToken cancellationToken)
        {
            Record("remove " + image);
            lock (_gate) _tags.Remove(image);
            return Task.CompletedTask;
        }

        /// <summary>A docker-save tar of the image: its config and a manifest.json, no layers.</summary>
        public Task SaveAsync(string reference, string path, CancellationToken cancellationToken)
        {
            Record("save " + reference);
            byte[] config;
            string[]? layers;
            lock (_gate)
            {
                var id = _tags.TryGetValue(reference, out var tagged) ? tagged : reference;
                if (!_configs.TryGetValue(id, out config!))
                    throw new ImageToolsException("ImageNotFound", FaultKind.ObjectNotFound, $"No such image: {reference}");
                _layers.TryGetValue(id, out layers);
            }
            var configName = Convert.ToHexString(SHA256.HashData(config)).ToLowerInvariant() + ".json";
            var layerEntries = (layers ?? Array.Empty<string>()).Select(l => Encoding.UTF8.GetBytes(l))
                .Select(b => (Name: Convert.ToHexString(SHA256.HashData(b)).ToLowerInvariant() + "/layer.tar", Bytes: b)).ToList();
            var manifest = Encoding.UTF8.GetBytes("[{\"Config\":\"" + configName + "\",\"RepoTags\":[" + System.Text.Json.JsonSerializer.Serialize(reference) + "],\"Layers\":"
                + System.Text.Json.JsonSerializer.Serialize(layerEntries.Select(l => l.Name)) + "}]");
            using (var file = System.IO.File.Create(path))
            using (var tar = new System.Formats.Tar.TarWriter(file, System.Formats.Tar.TarEntryFormat.Ustar))
            {
                foreach (var (name, bytes) in layerEntries.Select(l => (l.Name, l.Bytes)).Append((configName, config)).Append(("manifest.json", manifest)))
                {
                    var entry = new System.Formats.Tar.UstarTarEntry(System.Formats.Tar.TarEntryType.RegularFile, name) { DataStream = new System.IO.MemoryStream(bytes) };
                    tar.WriteEntry(entry);
                }
            }
            return Task.CompletedTask;
        }

        private TaskCompletionSource<bool> Started(string imageName) =>
            _buildStarted.GetOrAdd(imageName, _ => new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously));

        private void Record(string call) { lock (_gate) _calls.Add(call); }

        // An image id is the digest of the image's config, as in Docker: SaveAsync writes that config, so
        // the publisher's checks of a saved image hold for the fake's images too.
        private string IdFor(string seed)
        {
            var config = Encoding.UTF8.GetBytes("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"comment\":"
                + System.Text.Json.JsonSerializer.Serialize(seed) + "}");
            var id = "sha256:" + Convert.ToHexString(SHA256.HashData(config)).ToLowerInvariant();
            lock (_gate) _configs[id] = config;
            return id;
        }
    }
}
