using System.Collections.Generic;
using System.Linq;
using ImageTools.Json;

namespace ImageTools.References
{
    /// <summary>The platform of an index entry or image config (OCI image index "platform").</summary>
    internal sealed class ImagePlatform
    {
        public ImagePlatform(string os, string architecture, string? variant = null, string? osVersion = null)
        {
            Os = os;
            Architecture = architecture;
            Variant = string.IsNullOrEmpty(variant) ? null : variant;
            OsVersion = string.IsNullOrEmpty(osVersion) ? null : osVersion;
        }

        /// <summary>The platform of this machine (linux and its architecture), which local builds produce.</summary>
        public static ImagePlatform Host { get; } = new ImagePlatform("linux", System.Runtime.InteropServices.RuntimeInformation.OSArchitecture switch
        {
            System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
            System.Runtime.InteropServices.Architecture.Arm => "arm",
            System.Runtime.InteropServices.Architecture.X86 => "386",
            _ => "amd64",
        });

        public string Os { get; }
        public string Architecture { get; }
        public string? Variant { get; }
        public string? OsVersion { get; }

        public override string ToString() => Variant == null ? $"{Os}/{Architecture}" : $"{Os}/{Architecture}/{Variant}";

        /// <summary><c>os/architecture[/variant]</c>, as docker build --platform takes it; null when it is not that.</summary>
        public static ImagePlatform? TryParse(string? text)
        {
            var parts = (text ?? "").Split('/');
            if (parts.Length < 2 || parts.Length > 3 || parts.Any(p => p.Length == 0 || p.Trim() != p)) return null;
            return new ImagePlatform(parts[0].ToLowerInvariant(), parts[1].ToLowerInvariant(), parts.Length == 3 ? parts[2].ToLowerInvariant() : null);
        }

        internal static ImagePlatform? From(JsonValue? platform)
        {
            if (platform == null || platform.Kind != JsonKind.Object) return null;
            return new ImagePlatform(platform["os"]?.AsString ?? "", platform["architecture"]?.AsString ?? "",
                platform["variant"]?.AsString, platform["os.version"]?.AsString);
        }

        internal JsonValue ToJson()
        {
            var members = new List<(string, JsonValue)> { ("architecture", JsonValue.String(Architecture)), ("os", JsonValue.String(Os)) };
            if (OsVersion != null) members.Add(("os.version", JsonValue.String(OsVersion)));
            if (Variant != null) members.Add(("variant", JsonValue.String(Variant)));
            return JsonValue.Object(members.ToArray());
        }
    }
}
