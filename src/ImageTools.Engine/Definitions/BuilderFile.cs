using System;
using System.Collections.Generic;
using System.Linq;
using ImageTools.Yaml;

namespace ImageTools.Definitions
{
    /// <summary>One image of a builder file: its <c>images</c> item, with the line of each setting.</summary>
    internal sealed class BuilderEntry
    {
        public int Line { get; internal set; }
        /// <summary>As written, without the tag: a short name, or a full one holding '/'.</summary>
        public string Name { get; internal set; } = "";
        public string? Tag { get; internal set; }
        /// <summary>What the image builds on, as written: an image of the file (by name) or an external reference.</summary>
        public string From { get; internal set; } = "";
        public int FromLine { get; internal set; }
        /// <summary>The image directory, relative to the file: <c>path</c>, else the name's last component.</summary>
        public string Directory { get; internal set; } = "";
        public int DirectoryLine { get; internal set; }
        /// <summary>A context directory (relative to <see cref="Directory"/>) or a git URL; null for the directory itself.</summary>
        public string? Context { get; internal set; }
        public int ContextLine { get; internal set; }
        /// <summary>The Dockerfile, relative to <see cref="Directory"/> (to a git context's directory for a git context).</summary>
        public string? Dockerfile { get; internal set; }
        public int DockerfileLine { get; internal set; }
        public IReadOnlyList<string> Tags { get; internal set; } = Array.Empty<string>();
        public IReadOnlyDictionary<string, string> BuildArgs { get; internal set; } = new Dictionary<string, string>();
        public string? Target { get; internal set; }
    }

    /// <summary>
    /// The 2014 YAML builder's file (<c>builder.yaml</c>), as the issue that asked for it describes it:
    /// a top-level <c>builder:</c> mapping whose <c>images:</c> list holds one mapping per image,
    /// <c>{name, from}</c> and the optional <c>path</c>, <c>context</c>, <c>dockerfile</c>, <c>tags</c>,
    /// <c>build_args</c>, <c>target</c>. No original of that tool was found (docs/formats.md), so the
    /// shape is reconstructed; unknown keys are refused so that a typo never silently does nothing.
    /// </summary>
    internal static class BuilderFile
    {
        public static readonly string[] FileNames = { "builder.yaml", "builder.yml" };

        private static readonly string[] ImageKeys = { "name", "from", "path", "context", "dockerfile", "tags", "build_args", "target" };

        public static IReadOnlyList<BuilderEntry> Load(string path) => Read(YamlFile.Load(path));

        public static IReadOnlyList<BuilderEntry> Parse(string text, string path) => Read(YamlFile.Parse(text, path));

        private static IReadOnlyList<BuilderEntry> Read(YamlFile yaml)
        {
            var path = yaml.Path;
            yaml.RejectUnknownKeys(new[] { "builder" });
            var builder = yaml.Node("builder")
                ?? throw new ImageToolsException("BuilderFileInvalid", FaultKind.InvalidData,
                    "This is not a builder file: it has no top-level 'builder:' mapping. Write builder:, then images: with one '- name: …' and 'from: …' per image.",
                    path, yaml.Root.Line);
            if (builder.Kind != YamlKind.Mapping) throw Invalid(path, builder, "'builder' must be a mapping holding 'images:'.");
            var builderFile = Sub(path, builder);
            builderFile.RejectUnknownKeys(new[] { "images" });
            var images = builderFile.Node("images");
            if (images == null || images.Kind != YamlKind.Sequence || images.Items.Count == 0)
                throw Invalid(path, images ?? builder, "'builder.images' must be a list of images, each '- name: NAME' with 'from: BASE'.");

            var entries = new List<BuilderEntry>();
            var seen = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var item in images.Items)
            {
                if (item.Kind != YamlKind.Mapping) throw Invalid(path, item, "Every item of 'builder.images' must be a mapping (name: …, from: …).");
                var image = Sub(path, item);
                image.RejectUnknownKeys(ImageKeys);
                var fullName = image.String("name");
                if (string.IsNullOrWhiteSpace(fullName)) throw Invalid(path, item, "This image has no 'name'. Give it one (name or name:tag).");
                var from = image.String("from");
                if (string.IsNullOrWhiteSpace(from))
                    throw Invalid(path, item, $"'{fullName}' has no 'from'. Name what it builds on: another image of this file, or an image such as debian:bookworm.");
                var colon = fullName!.LastIndexOf(':');
                var (name, tag) = colon > fullName.LastIndexOf('/') ? (fullName.Substring(0, colon), fullName.Substring(colon + 1)) : (fullName, (string?)null);
                var line = image.LineOf("name");
                if (seen.TryGetValue(name, out var first))
                    throw new ImageToolsException("BuilderFileInvalid", FaultKind.InvalidData,
                        $"'{name}' is listed twice (first at line {first}); ImageTools builds one tag per image name. Give the second its own name.", path, line, name);
                seen[name] = line;
                entries.Add(new BuilderEntry
                {
                    Line = line,
                    Name = name,
                    Tag = tag,
                    From = from!.Trim(),
                    FromLine = image.LineOf("from"),
                    Directory = image.String("path") ?? name.Substring(name.LastIndexOf('/') + 1),
                    DirectoryLine = image.LineOf("path") is var pathLine && pathLine > 0 ? pathLine : line,
                    Context = image.String("context"),
                    ContextLine = image.LineOf("context"),
                    Dockerfile = image.String("dockerfile"),
                    DockerfileLine = image.LineOf("dockerfile"),
                    Tags = image.StringList("tags"),
                    BuildArgs = image.StringMap("build_args"),
                    Target = image.String("target"),
                });
            }
            return entries;
        }

        /// <summary>Whether a file is read as a builder file: its name, or any other YAML file that is no tree's own (image.yaml, imagetools.yaml, config.yaml).</summary>
        public static bool IsCandidate(string fileName) =>
            FileNames.Contains(fileName, StringComparer.Ordinal) ||
            ((fileName.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || fileName.EndsWith(".yml", StringComparison.OrdinalIgnoreCase)) &&
             fileName != ImageSpec.FileName && fileName != TreeConfig.FileName && fileName != TreeConfig.DockerPkgFileName);

        private static YamlFile Sub(string path, YamlValue node) => YamlFile.FromNode(path, node);

        private static ImageToolsException Invalid(string path, YamlValue node, string message) =>
            new ImageToolsException("BuilderFileInvalid", FaultKind.InvalidData, message, path, node.Line);
    }
}
