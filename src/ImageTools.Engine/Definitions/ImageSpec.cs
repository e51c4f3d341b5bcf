using System;
using System.Collections.Generic;
using System.Linq;
using ImageTools.References;

namespace ImageTools.Definitions
{
    /// <summary>An image directory's optional <c>image.yaml</c>.</summary>
    internal sealed class ImageSpec
    {
        public const string FileName = "image.yaml";

        private static readonly string[] KnownKeys =
        {
            "name", "version", "tags", "build_args", "target", "platforms", "dockerfile", "context",
            "verify_command", "verify_args", "depends", "labels",
        };

        public string? FilePath { get; private set; }
        public string? Name { get; private set; }
        public int NameLine { get; private set; }
        public string? Version { get; private set; }
        public IReadOnlyList<string> Tags { get; private set; } = Array.Empty<string>();
        public IReadOnlyDictionary<string, string> BuildArgs { get; private set; } = new Dictionary<string, string>();
        public string? Target { get; private set; }
        public int TargetLine { get; private set; }
        public IReadOnlyList<string> Platforms { get; private set; } = Array.Empty<string>();
        /// <summary>Dockerfile path relative to the image directory.</summary>
        public string? Dockerfile { get; private set; }
        public int DockerfileLine { get; private set; }
        /// <summary>Build context relative to the image directory.</summary>
        public string? Context { get; private set; }
        public int ContextLine { get; private set; }
        public string? VerifyCommand { get; private set; }
        public IReadOnlyList<string>? VerifyArgs { get; private set; }
        public IReadOnlyList<string> Depends { get; private set; } = Array.Empty<string>();
        public int DependsLine { get; private set; }
        public IReadOnlyDictionary<string, string> Labels { get; private set; } = new Dictionary<string, string>();

        public static ImageSpec Load(string path) => FromYaml(YamlFile.Load(path));

        public static ImageSpec Parse(string text, string path) => FromYaml(YamlFile.Parse(text, path));

        private static ImageSpec FromYaml(YamlFile yaml)
        {
            yaml.RejectUnknownKeys(KnownKeys);
            var platforms = yaml.StringList("platforms");
            // A build lands in the local engine, which keeps one image per tag: one platform per build.
            if (platforms.Count > 1)
                throw YamlFile.Invalid(yaml.Path, yaml.Node("platforms")!,
                    $"'platforms' lists {platforms.Count} platforms ({string.Join(", ", platforms)}), but a build goes into the local engine, " +
                    "which keeps one image per tag. List one platform here; publish the others from hosts (or image.yaml files) of " +
                    "those platforms, and Publish-Image merges them into one multi-platform index under the same tag.");
            var unusable = platforms.FirstOrDefault(p => ImagePlatform.TryParse(p) == null);
            if (unusable != null)
                throw YamlFile.Invalid(yaml.Path, yaml.Node("platforms")!,
                    $"'platforms' holds '{unusable}', which is not a platform: write os/architecture[/variant], e.g. linux/arm64.");
            return new ImageSpec
            {
                FilePath = yaml.Path,
                Name = yaml.String("name"),
                NameLine = yaml.LineOf("name"),
                Version = yaml.String("version"),
                Tags = yaml.StringList("tags"),
                BuildArgs = yaml.StringMap("build_args"),
                Target = yaml.String("target"),
                TargetLine = yaml.LineOf("target"),
                Platforms = platforms,
                Dockerfile = yaml.String("dockerfile"),
                DockerfileLine = yaml.LineOf("dockerfile"),
                Context = yaml.String("context"),
                ContextLine = yaml.LineOf("context"),
                VerifyCommand = yaml.String("verify_command"),
                VerifyArgs = yaml.Node("verify_args") == null ? null : yaml.StringList("verify_args"),
                Depends = yaml.StringList("depends"),
                DependsLine = yaml.LineOf("depends"),
                Labels = yaml.StringMap("labels"),
            };
        }
    }
}
