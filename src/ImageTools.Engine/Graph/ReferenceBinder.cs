using System;
using System.Collections.Generic;
using ImageTools.Definitions;
using ImageTools.References;

namespace ImageTools.Graph
{
    /// <summary>
    /// Decides whether a reference in a Dockerfile names an image of the tree. It does when its
    /// repository is the image's name, with or without the tree's namespace, and its registry (if
    /// any) is the tree's; then its tag must be the image's tag, <c>latest</c>, or absent.
    /// </summary>
    internal sealed class ReferenceBinder
    {
        private readonly ImageTree _tree;
        private readonly string? _registryHost;
        private readonly Dictionary<string, ImageDefinition> _byRepository = new Dictionary<string, ImageDefinition>(StringComparer.Ordinal);

        public ReferenceBinder(ImageTree tree)
        {
            _tree = tree;
            _registryHost = tree.Config.Registry == null ? null : ImageReference.NormalizeRegistry(tree.Config.Registry);
            foreach (var image in tree.Images)
            {
                _byRepository[image.Name] = image;
                if (tree.Config.Namespace != null) _byRepository[tree.Config.Namespace + "/" + image.Name] = image;
            }
        }

        /// <summary>
        /// The tree image <paramref name="text"/> refers to, or null for an external image; either way
        /// <paramref name="reference"/> is the text parsed, once, for everything downstream.
        /// </summary>
        public ImageDefinition? Bind(string text, ImageDefinition user, string filePath, int line, List<TreeWarning> warnings, out ImageReference reference)
        {
            if (!ImageReference.TryParse(text, out var parsed, out var error))
                throw new ImageToolsException("InvalidImageReference", FaultKind.InvalidData,
                    $"'{text}' is not a valid image reference: {error}. Fix the reference (after ARG expansion it must be like name:tag).",
                    filePath, line, user.Name);
            reference = parsed!;
            if (reference.Registry != null && (_registryHost == null || reference.RegistryHost != _registryHost)) return null;
            if (!_byRepository.TryGetValue(reference.Repository, out var image)) return null;

            if (reference.Digest != null || (reference.Tag != null && reference.Tag != "latest" && reference.Tag != image.Tag))
            {
                warnings.Add(new TreeWarning(
                    $"'{text}' pins another version of the tree's image '{image.Name}' (the tree has {image.Tag}); " +
                    $"it is treated as an external image, not built from the tree. Use {_tree.ReferenceOf(image)} to build on the tree's image.",
                    filePath, line, user.Name));
                return null;
            }
            return image;
        }
    }
}
