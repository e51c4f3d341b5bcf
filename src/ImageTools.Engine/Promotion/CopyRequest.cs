using System;
using System.Collections.Generic;
using System.Linq;
using ImageTools.References;

namespace ImageTools.Promotion
{
    /// <summary>One copy of a run: a source (by tag or digest) and the destination repositories with their own tags.</summary>
    internal sealed class CopyRequest
    {
        private CopyRequest(string sourceText, ImageReference source, IReadOnlyList<CopyDestination> destinations)
        {
            SourceText = sourceText;
            Source = source;
            Destinations = destinations;
        }

        /// <summary>The source as the user gave it.</summary>
        public string SourceText { get; }
        public ImageReference Source { get; }
        public IReadOnlyList<CopyDestination> Destinations { get; }

        /// <summary>The tag or digest the source is read by.</summary>
        public string SourceReference => Source.Digest ?? Source.Tag!;

        /// <summary>
        /// Parses a source (it must name a tag or a digest) and destination references: each names a repository and
        /// optionally a tag; references to one repository are one destination with those tags in the order given. A
        /// destination without a tag gets the source's tag; with a source by digest alone it is copied by digest, no tag.
        /// </summary>
        public static CopyRequest Parse(string source, IEnumerable<string> destinations)
        {
            if (!ImageReference.TryParse(source, out var parsed, out var error))
                throw new ImageToolsException("CopyReferenceInvalid", FaultKind.InvalidArgument,
                    $"The source '{source}' is not an image reference: {error}.", imageName: source);
            if (parsed!.Tag == null && parsed.Digest == null)
                throw new ImageToolsException("CopyReferenceInvalid", FaultKind.InvalidArgument,
                    $"The source '{source}' names no tag or digest; say which one to copy ({source}:1.0 or {source}@sha256:...).", imageName: source);
            var byRepository = new List<(ImageReference Repository, List<string> Tags)>();
            foreach (var text in destinations)
            {
                if (!ImageReference.TryParse(text, out var destination, out error))
                    throw new ImageToolsException("CopyReferenceInvalid", FaultKind.InvalidArgument,
                        $"The destination '{text}' is not an image reference: {error}.", imageName: text);
                if (destination!.Digest != null)
                    throw new ImageToolsException("CopyReferenceInvalid", FaultKind.InvalidArgument,
                        $"The destination '{text}' names a digest; a destination names a repository and tags (the digest is the source's).", imageName: text);
                var repository = ImageReference.FromParts(destination.RegistryHost, destination.Normalize().Repository, tag: null);
                var entry = byRepository.FirstOrDefault(e => e.Repository == repository);
                if (entry.Repository == null)
                {
                    entry = (repository, new List<string>());
                    byRepository.Add(entry);
                }
                var tag = destination.Tag ?? parsed.Tag;
                if (tag != null && !entry.Tags.Contains(tag, StringComparer.Ordinal)) entry.Tags.Add(tag);
            }
            if (byRepository.Count == 0)
                throw new ImageToolsException("CopyReferenceInvalid", FaultKind.InvalidArgument,
                    $"No destination is given for '{source}'.", imageName: source);
            var sourceRepository = ImageReference.FromParts(parsed.RegistryHost, parsed.Normalize().Repository, tag: null);
            foreach (var (repository, tags) in byRepository)
                if (repository == sourceRepository && (tags.Count == 0 || (parsed.Tag != null && tags.SequenceEqual(new[] { parsed.Tag }))))
                    throw new ImageToolsException("CopyReferenceInvalid", FaultKind.InvalidArgument,
                        $"'{source}' would be copied onto itself; name another repository or other tags.", imageName: source);
            return new CopyRequest(source, parsed, byRepository.Select(e => new CopyDestination(e.Repository, e.Tags)).ToList());
        }
    }

    /// <summary>A destination repository (registry and repository, no tag) and the tags to move there.</summary>
    internal sealed class CopyDestination
    {
        public CopyDestination(ImageReference repository, IReadOnlyList<string> tags)
        {
            Repository = repository;
            Tags = tags;
        }

        public ImageReference Repository { get; }
        public IReadOnlyList<string> Tags { get; }

        /// <summary>registry/repository.</summary>
        public string Name => Repository.Name;
    }
}
