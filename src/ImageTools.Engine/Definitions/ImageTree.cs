using System;
using System.Collections.Generic;
using System.Linq;
using ImageTools.References;

namespace ImageTools.Definitions
{
    /// <summary>Something worth telling the user that does not stop the run.</summary>
    internal sealed class TreeWarning
    {
        public TreeWarning(string message, string? filePath = null, int? line = null, string? imageName = null)
        {
            Message = message;
            FilePath = filePath;
            Line = line;
            ImageName = imageName;
        }

        public string Message { get; }
        public string? FilePath { get; }
        public int? Line { get; }
        public string? ImageName { get; }

        public override string ToString() =>
            FilePath == null ? Message : Line.HasValue ? $"{FilePath}:{Line}: {Message}" : $"{FilePath}: {Message}";
    }

    /// <summary>Several problems found in one scan, reported together so one run shows them all.</summary>
    public sealed class ImageTreeException : ImageToolsException
    {
        internal ImageTreeException(string root, IReadOnlyList<ImageToolsException> errors)
            : base("ImageTreeInvalid", FaultKind.InvalidData, Summarize(root, errors), imageName: null)
        {
            Errors = errors;
        }

        public IReadOnlyList<ImageToolsException> Errors { get; }

        private static string Summarize(string root, IReadOnlyList<ImageToolsException> errors) =>
            errors.Count == 1
                ? errors[0].Message
                : $"The image tree at {root} has {errors.Count} problems:" + Environment.NewLine +
                  string.Join(Environment.NewLine, errors.Select(e => "  " + e.Message));
    }

    /// <summary>Every image definition under one root, with the root's config.</summary>
    internal sealed class ImageTree
    {
        private readonly Dictionary<string, ImageDefinition> _byName;

        internal ImageTree(string root, TreeConfig config, IReadOnlyList<ImageDefinition> images, IReadOnlyList<TreeWarning> warnings)
        {
            Root = root;
            Config = config;
            Images = images;
            Warnings = warnings;
            _byName = images.ToDictionary(i => i.Name, StringComparer.Ordinal);
        }

        public string Root { get; }
        public TreeConfig Config { get; }
        /// <summary>Images ordered by name.</summary>
        public IReadOnlyList<ImageDefinition> Images { get; }
        public IReadOnlyList<TreeWarning> Warnings { get; }

        public ImageDefinition? Find(string name) => _byName.TryGetValue(name, out var image) ? image : null;

        /// <summary>The repository an image is published under: [registry/][namespace/]name, without a tag.</summary>
        public ImageReference RepositoryOf(string name) => RepositoryOf(Config, name);

        /// <summary>The full reference of an image under <paramref name="tag"/> (its own tag when null).</summary>
        public ImageReference ReferenceOf(ImageDefinition image, string? tag = null) => RepositoryOf(image.Name).WithTag(tag ?? image.Tag);

        internal static ImageReference RepositoryOf(TreeConfig config, string name) =>
            ImageReference.FromParts(config.Registry, config.Namespace == null ? name : config.Namespace + "/" + name, tag: null);
    }
}
