using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using ImageTools.Json;
using ImageTools.References;
using ImageTools.Registry;

namespace ImageTools.Tests.Registry
{
    /// <summary>A pushed test image: what the registry now holds.</summary>
    public sealed record PushedImage(string ManifestDigest, string ConfigDigest, byte[] ManifestBytes, long ManifestSize);

    /// <summary>Pushes tiny images through the client under test (blob upload + manifest PUT), no Docker daemon needed.</summary>
    internal static class TestImages
    {
        /// <summary>An empty tar (two zero blocks), gzipped: the smallest valid layer.</summary>
        public static byte[] EmptyLayer(out string diffId)
        {
            var tar = new byte[1024];
            diffId = Digests.Sha256(tar);
            using var output = new MemoryStream();
            using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true)) gzip.Write(tar, 0, tar.Length);
            return output.ToArray();
        }

        public static byte[] Config(IDictionary<string, string> labels, string os = "linux", string architecture = "amd64", string? variant = null)
        {
            EmptyLayer(out var diffId);
            var members = new List<(string, JsonValue)>
            {
                ("architecture", JsonValue.String(architecture)),
                ("os", JsonValue.String(os)),
            };
            if (variant != null) members.Add(("variant", JsonValue.String(variant)));
            members.Add(("config", JsonValue.Object(("Labels", JsonValue.Object(labels.Select(l =>
                new KeyValuePair<string, JsonValue>(l.Key, JsonValue.String(l.Value))))))));
            members.Add(("rootfs", JsonValue.Object(("type", JsonValue.String("layers")), ("diff_ids", JsonValue.Array(JsonValue.String(diffId))))));
            return Encoding.UTF8.GetBytes(JsonValue.Object(members.ToArray()).ToJson());
        }

        public static async Task<PushedImage> PushAsync(RegistryClient client, string repository, string? tag,
            IDictionary<string, string>? labels = null, string os = "linux", string architecture = "amd64", string? variant = null)
        {
            var layer = EmptyLayer(out _);
            var config = Config(labels ?? new Dictionary<string, string>(), os, architecture, variant);
            var layerDigest = await client.UploadBlobAsync(repository, layer);
            var configDigest = await client.UploadBlobAsync(repository, config);
            var manifest = Encoding.UTF8.GetBytes(JsonValue.Object(
                ("schemaVersion", JsonValue.Number(2)),
                ("mediaType", JsonValue.String(MediaTypes.OciManifest)),
                ("config", new ManifestDescriptor(MediaTypes.OciConfig, configDigest, config.Length).ToJson()),
                ("layers", JsonValue.Array(new ManifestDescriptor(MediaTypes.OciLayerGzip, layerDigest, layer.Length).ToJson()))).ToJson());
            var digest = await client.PutManifestAsync(repository, tag ?? Digests.Sha256(manifest), manifest, MediaTypes.OciManifest);
            return new PushedImage(digest, configDigest, manifest, manifest.Length);
        }

        public static async Task<string> PushIndexAsync(RegistryClient client, string repository, string tag,
            params (PushedImage Image, ImagePlatform Platform)[] entries)
        {
            var index = Encoding.UTF8.GetBytes(JsonValue.Object(
                ("schemaVersion", JsonValue.Number(2)),
                ("mediaType", JsonValue.String(MediaTypes.OciIndex)),
                ("manifests", JsonValue.Array(entries.Select(e =>
                    new ManifestDescriptor(MediaTypes.OciManifest, e.Image.ManifestDigest, e.Image.ManifestSize, e.Platform).ToJson())))).ToJson());
            return await client.PutManifestAsync(repository, tag, index, MediaTypes.OciIndex);
        }
    }
}
