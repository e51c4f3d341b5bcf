using System;
using System.Collections.Generic;
using System.Linq;
using ImageTools.Json;
using ImageTools.References;

namespace ImageTools.Registry
{
    /// <summary>An OCI descriptor: what a manifest points at (config, layer, or a manifest of an index).</summary>
    internal sealed class ManifestDescriptor
    {
        public ManifestDescriptor(string mediaType, string digest, long size, ImagePlatform? platform = null,
            IReadOnlyDictionary<string, string>? annotations = null)
        {
            MediaType = mediaType;
            Digest = digest;
            Size = size;
            Platform = platform;
            Annotations = annotations ?? new Dictionary<string, string>();
        }

        public string MediaType { get; }
        public string Digest { get; }
        public long Size { get; }
        public ImagePlatform? Platform { get; }
        public IReadOnlyDictionary<string, string> Annotations { get; }

        /// <summary>A JSON descriptor, for writing indexes and manifests.</summary>
        public JsonValue ToJson()
        {
            var members = new List<(string, JsonValue)>
            {
                ("mediaType", JsonValue.String(MediaType)), ("digest", JsonValue.String(Digest)), ("size", JsonValue.Number(Size)),
            };
            if (Platform != null) members.Add(("platform", Platform.ToJson()));
            if (Annotations.Count > 0)
                members.Add(("annotations", JsonValue.Object(Annotations.Select(a => new KeyValuePair<string, JsonValue>(a.Key, JsonValue.String(a.Value))))));
            return JsonValue.Object(members.ToArray());
        }

        public override string ToString() => Platform == null ? $"{MediaType} {Digest}" : $"{MediaType} {Digest} ({Platform})";
    }

    /// <summary>A manifest or index as the registry sent it: the exact bytes, their digest and what they say.</summary>
    internal sealed class RegistryManifest
    {
        internal RegistryManifest(string mediaType, string digest, byte[] bytes, JsonValue json,
            ManifestDescriptor? config, IReadOnlyList<ManifestDescriptor> layers, IReadOnlyList<ManifestDescriptor> manifests)
        {
            MediaType = mediaType;
            Digest = digest;
            Bytes = bytes;
            Json = json;
            Config = config;
            Layers = layers;
            Manifests = manifests;
        }

        public string MediaType { get; }
        public string Digest { get; }
        /// <summary>The bytes the digest is computed over; PUT these, never a re-serialisation.</summary>
        public byte[] Bytes { get; }
        public JsonValue Json { get; }

        public bool IsIndex => MediaTypes.IsIndex(MediaType);

        /// <summary>An image manifest's config descriptor; null for an index.</summary>
        public ManifestDescriptor? Config { get; }
        public IReadOnlyList<ManifestDescriptor> Layers { get; }
        /// <summary>An index's entries; empty for an image manifest.</summary>
        public IReadOnlyList<ManifestDescriptor> Manifests { get; }

        public override string ToString() => $"{MediaType} {Digest}";
    }

    /// <summary>What a HEAD on a manifest tells: type, digest and size, without the body.</summary>
    internal sealed class ManifestInfo
    {
        public ManifestInfo(string mediaType, string digest, long size)
        {
            MediaType = mediaType;
            Digest = digest;
            Size = size;
        }

        public string MediaType { get; }
        public string Digest { get; }
        public long Size { get; }

        public override string ToString() => $"{MediaType} {Digest}";
    }

    /// <summary>The parts of an image config the tools read: labels (build metadata) and platform.</summary>
    internal sealed class ImageConfig
    {
        internal ImageConfig(string digest, byte[] bytes, JsonValue json)
        {
            Digest = digest;
            Bytes = bytes;
            Json = json;
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            var labelsJson = json["config"]?["Labels"];
            if (labelsJson != null)
                foreach (var label in labelsJson.Members)
                    if (label.Value.AsString != null) labels[label.Key] = label.Value.AsString!;
            Labels = labels;
            Os = json["os"]?.AsString;
            Architecture = json["architecture"]?.AsString;
            Variant = json["variant"]?.AsString;
            Created = json["created"]?.AsString;
        }

        /// <summary>The config digest, which is the image id.</summary>
        public string Digest { get; }
        public byte[] Bytes { get; }
        public JsonValue Json { get; }
        public IReadOnlyDictionary<string, string> Labels { get; }
        public string? Os { get; }
        public string? Architecture { get; }
        public string? Variant { get; }
        public string? Created { get; }
    }

    /// <summary>Reads manifests strictly enough that a bad answer is an error here, not a puzzle later.</summary>
    internal static class ManifestParser
    {
        /// <summary>Null when the document is fine; else why not.</summary>
        public static string? Parse(string mediaType, string digest, byte[] bytes, out RegistryManifest? manifest)
        {
            manifest = null;
            JsonValue json;
            try { json = JsonValue.Parse(bytes); }
            catch (JsonFormatException e) { return $"it is not valid JSON ({e.Message})"; }
            if (json.Kind != JsonKind.Object) return "it is not a JSON object";
            if (json["schemaVersion"]?.AsInt64 == 1 || mediaType == MediaTypes.DockerManifestSchema1 || mediaType == MediaTypes.DockerManifestSchema1Signed)
                return "it is a Docker schema 1 manifest, which is not supported; push the image again with a current Docker or buildx";
            if (json["schemaVersion"]?.AsInt64 != 2) return "its schemaVersion is not 2";

            var declared = json["mediaType"]?.AsString;
            // Content-Type is the authority; a generic one (some proxies) falls back to the document.
            if (!MediaTypes.IsIndex(mediaType) && !MediaTypes.IsImageManifest(mediaType))
                mediaType = declared ?? (json["manifests"] != null ? MediaTypes.OciIndex : MediaTypes.OciManifest);
            if (declared != null && declared != mediaType)
                return $"the document says its mediaType is '{declared}' but the registry sent it as '{mediaType}'";

            ManifestDescriptor? config = null;
            var layers = new List<ManifestDescriptor>();
            var manifests = new List<ManifestDescriptor>();
            if (MediaTypes.IsIndex(mediaType))
            {
                var entries = json["manifests"];
                if (entries == null || entries.Kind != JsonKind.Array) return "the index has no 'manifests' array";
                foreach (var entry in entries.Items)
                {
                    var error = Descriptor(entry, "an index entry", out var descriptor);
                    if (error != null) return error;
                    manifests.Add(descriptor!);
                }
            }
            else if (MediaTypes.IsImageManifest(mediaType))
            {
                var error = Descriptor(json["config"], "the config", out config);
                if (error != null) return error;
                var layerArray = json["layers"];
                if (layerArray == null || layerArray.Kind != JsonKind.Array) return "the manifest has no 'layers' array";
                foreach (var layer in layerArray.Items)
                {
                    error = Descriptor(layer, "a layer", out var descriptor);
                    if (error != null) return error;
                    layers.Add(descriptor!);
                }
            }
            else return $"its media type '{mediaType}' is not an OCI or Docker v2 manifest or index";

            manifest = new RegistryManifest(mediaType, digest, bytes, json, config, layers, manifests);
            return null;
        }

        private static string? Descriptor(JsonValue? json, string what, out ManifestDescriptor? descriptor)
        {
            descriptor = null;
            if (json == null || json.Kind != JsonKind.Object) return $"{what} is not a descriptor object";
            var digest = json["digest"]?.AsString;
            if (!Digests.IsValid(digest)) return $"{what} has no valid digest ('{digest}')";
            var size = json["size"]?.AsInt64;
            if (size == null || size < 0) return $"{what} ({digest}) has no valid size";
            var annotations = new Dictionary<string, string>(StringComparer.Ordinal);
            if (json["annotations"] != null)
                foreach (var annotation in json["annotations"]!.Members)
                    if (annotation.Value.AsString != null) annotations[annotation.Key] = annotation.Value.AsString!;
            descriptor = new ManifestDescriptor(json["mediaType"]?.AsString ?? "", digest!, size.Value,
                ImagePlatform.From(json["platform"]), annotations);
            return null;
        }
    }

    /// <summary>Choosing the manifest of an index for one platform, with the normalisations containerd applies.</summary>
    internal static class PlatformMatcher
    {
        /// <summary>
        /// The entry of <paramref name="index"/> for os/architecture[/variant], or null. Architecture
        /// aliases (x86_64, aarch64) are normalised; arm64 without a variant means v8; when no variant
        /// is asked for, an entry without one is preferred, then the first. Attestation manifests
        /// (buildx's unknown/unknown entries) are never chosen.
        /// </summary>
        public static ManifestDescriptor? Resolve(RegistryManifest index, string os, string architecture, string? variant = null)
        {
            if (!index.IsIndex) throw new ArgumentException($"{index.Digest} is an image manifest, not an index.", nameof(index));
            var wanted = new ImagePlatform(os, architecture, variant);
            var candidates = index.Manifests.Where(m =>
                    m.Platform != null && Matches(wanted, m.Platform) &&
                    !(m.Annotations.TryGetValue("vnd.docker.reference.type", out var type) && type == "attestation-manifest"))
                .ToList();
            if (wanted.Variant != null) return candidates.FirstOrDefault();
            return candidates.FirstOrDefault(m => m.Platform!.Variant == null) ?? candidates.FirstOrDefault();
        }

        /// <summary>
        /// Whether an image for <paramref name="actual"/> serves <paramref name="wanted"/>: same os and
        /// (normalised) architecture, and the same variant when one is wanted (arm64 alone means v8).
        /// </summary>
        public static bool Matches(ImagePlatform wanted, ImagePlatform actual)
        {
            var architecture = NormalizeArchitecture(wanted.Architecture);
            if (!string.Equals(wanted.Os, actual.Os, StringComparison.OrdinalIgnoreCase) || NormalizeArchitecture(actual.Architecture) != architecture)
                return false;
            var variant = NormalizeVariant(architecture, wanted.Variant);
            return variant == null || NormalizeVariant(architecture, actual.Variant) == variant;
        }

        internal static string NormalizeArchitecture(string architecture)
        {
            switch (architecture.ToLowerInvariant())
            {
                case "x86_64": case "x86-64": return "amd64";
                case "aarch64": return "arm64";
                case "i386": case "i686": return "386";
                case "armhf": case "armel": return "arm";
                default: return architecture.ToLowerInvariant();
            }
        }

        private static string? NormalizeVariant(string architecture, string? variant)
        {
            if (string.IsNullOrEmpty(variant)) return architecture == "arm64" ? "v8" : null;
            var lower = variant!.ToLowerInvariant();
            return architecture == "arm64" && lower == "8" ? "v8" : lower;
        }
    }
}
