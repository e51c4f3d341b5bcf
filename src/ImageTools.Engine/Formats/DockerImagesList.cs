using System;
using System.Collections.Generic;
using System.Linq;

namespace ImageTools.Formats
{
    /// <summary>One image line of a docker_images file.</summary>
    internal sealed class DockerImagesEntry
    {
        public DockerImagesEntry(int line, string name, string? tag, string directory, string? baseImage, IReadOnlyList<string> options,
            IReadOnlyList<int>? optionLines = null)
        {
            OptionLines = optionLines ?? options.Select(_ => line).ToList();
            Line = line;
            Name = name;
            Tag = tag;
            Directory = directory;
            BaseImage = baseImage;
            Options = options;
        }

        public int Line { get; }
        /// <summary>As written, without the tag: a short name, or a full one holding '/'.</summary>
        public string Name { get; }
        public string? Tag { get; }
        /// <summary>The build context, relative to the file.</summary>
        public string Directory { get; }
        /// <summary>The base column as written (<c>NONE</c> included); null when empty.</summary>
        public string? BaseImage { get; }
        /// <summary>The global options in effect at this line, then the line's own.</summary>
        public IReadOnlyList<string> Options { get; }
        /// <summary>The line each of <see cref="Options"/> is written on: a global option's own line, else this one.</summary>
        public IReadOnlyList<int> OptionLines { get; }
    }

    /// <summary>
    /// docker_build's <c>docker_images</c> file (GNS3's docker_build.md): fields separated by one or more
    /// tabs, <c>Name[:tag]  Directory  [Base Image]  [Build Options]</c>; a field starting with <c>#</c>
    /// begins a comment; a line of one field sets the global build options from there on.
    /// </summary>
    internal static class DockerImagesList
    {
        public const string FileName = "docker_images";

        public static IReadOnlyList<DockerImagesEntry> Parse(string text, string filePath)
        {
            var entries = new List<DockerImagesEntry>();
            IReadOnlyList<string> global = Array.Empty<string>();
            var globalLine = 0;
            var lines = text.Replace("\r\n", "\n").Split('\n');
            for (var index = 0; index < lines.Length; index++)
            {
                var fields = new List<string>();
                foreach (var field in lines[index].Split(new[] { '\t' }, StringSplitOptions.RemoveEmptyEntries).Select(f => f.Trim()).Where(f => f.Length > 0))
                {
                    if (field.StartsWith("#", StringComparison.Ordinal)) break;
                    fields.Add(field);
                }
                if (fields.Count == 0) continue;
                var line = index + 1;
                if (fields.Count == 1)
                {
                    if (!fields[0].StartsWith("-", StringComparison.Ordinal))
                        throw Invalid(filePath, line, $"'{fields[0]}' has no directory: an image line is Name<tab>Directory[<tab>Base][<tab>Options], " +
                                                      "and a line of one field holds build options starting with '-'. Separate the fields with tabs.");
                    global = Words(fields[0]);
                    globalLine = line;
                    continue;
                }
                if (fields.Count > 4)
                    throw Invalid(filePath, line, $"The line has {fields.Count} fields; it may have at most four (Name, Directory, Base, Options), separated by tabs.");
                var (name, tag) = SplitTag(fields[0]);
                // The base column is optional, and options may follow the directory directly (docker_build reads a field starting with '-' as options).
                string? baseImage = null;
                var own = new List<string>();
                foreach (var field in fields.Skip(2))
                {
                    if (field.StartsWith("-", StringComparison.Ordinal)) own.AddRange(Words(field));
                    else if (baseImage == null && own.Count == 0) baseImage = field;
                    else throw Invalid(filePath, line, $"'{field}' is neither the base image nor build options (which start with '-').");
                }
                entries.Add(new DockerImagesEntry(line, name, tag, fields[1], baseImage, global.Concat(own).ToList(),
                    global.Select(_ => globalLine).Concat(own.Select(_ => line)).ToList()));
            }
            return entries;
        }

        /// <summary>name:tag, where a ':' before the last '/' belongs to a registry port.</summary>
        private static (string Name, string? Tag) SplitTag(string text)
        {
            var colon = text.LastIndexOf(':');
            return colon > text.LastIndexOf('/') ? (text.Substring(0, colon), text.Substring(colon + 1)) : (text, null);
        }

        private static IReadOnlyList<string> Words(string text) => text.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries);

        private static ImageToolsException Invalid(string filePath, int line, string message) =>
            new ImageToolsException("ImageListInvalid", FaultKind.InvalidData, message, filePath, line);
    }
}
