using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;

namespace ImageTools.Definitions.Control
{
    /// <summary>A dependency named in a control file's Depends or Build-Depends.</summary>
    public sealed class ControlDependency
    {
        public ControlDependency(string name, string field, int line, string? versionConstraint)
        {
            Name = name;
            Field = field;
            Line = line;
            VersionConstraint = versionConstraint;
        }

        public string Name { get; }
        public string Field { get; }
        public int Line { get; }
        /// <summary>e.g. <c>&gt;= 1.0</c>; read, not enforced (docker-pkg ignores versions too).</summary>
        public string? VersionConstraint { get; }
    }

    /// <summary>
    /// A docker-pkg <c>control</c> file (deb822 paragraphs). Only Depends and Build-Depends
    /// matter: they name images of the tree that must be built first.
    /// </summary>
    public sealed class ControlFile
    {
        private static readonly string[] DependencyFields = { "Build-Depends", "Depends" };
        private static readonly Regex FieldPattern = new Regex(@"^([!-9;-~][!-9;-~]*)\s*:(.*)$", RegexOptions.CultureInvariant);
        // name [:arch] [(op version)] [[arch list]] [<profiles>]
        private static readonly Regex RelationPattern = new Regex(
            @"^(?<name>[a-z0-9][a-z0-9+.\-_/]*)(?::[a-z0-9-]+)?\s*(?:\(\s*(?<constraint>[^)]*)\))?\s*(?:\[[^\]]*\]\s*)*(?:<[^>]*>\s*)*$",
            RegexOptions.CultureInvariant);

        private ControlFile(IReadOnlyList<IReadOnlyDictionary<string, string>> paragraphs, IReadOnlyList<ControlDependency> dependencies)
        {
            Paragraphs = paragraphs;
            Dependencies = dependencies;
        }

        /// <summary>Field names compare case-insensitively, as deb822 says.</summary>
        public IReadOnlyList<IReadOnlyDictionary<string, string>> Paragraphs { get; }
        public IReadOnlyList<ControlDependency> Dependencies { get; }

        public static ControlFile Parse(string text, string filePath)
        {
            var paragraphs = new List<IReadOnlyDictionary<string, string>>();
            var dependencies = new List<ControlDependency>();
            Dictionary<string, string>? paragraph = null;
            var fieldLines = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
            string? field = null;
            var lines = text.Replace("\r\n", "\n").Split('\n');

            void EndParagraph()
            {
                if (paragraph == null) return;
                paragraphs.Add(paragraph);
                foreach (var name in DependencyFields)
                    if (paragraph.TryGetValue(name, out var value))
                        dependencies.AddRange(ParseRelations(value, name, fieldLines[name], filePath));
                paragraph = null;
                field = null;
                fieldLines.Clear();
            }

            for (var i = 0; i < lines.Length; i++)
            {
                var line = lines[i];
                var number = i + 1;
                if (line.StartsWith("#", StringComparison.Ordinal)) continue;
                if (line.Trim().Length == 0) { EndParagraph(); continue; }
                if (line[0] == ' ' || line[0] == '\t')
                {
                    if (field == null)
                        throw new ImageToolsException("InvalidControlFile", FaultKind.InvalidData,
                            "A continuation line (starting with a space) has no field above it. Indent only the lines that continue a field.",
                            filePath, number);
                    var continued = line.Trim();
                    paragraph![field] += "\n" + (continued == "." ? "" : continued);
                    continue;
                }
                var match = FieldPattern.Match(line);
                if (!match.Success)
                    throw new ImageToolsException("InvalidControlFile", FaultKind.InvalidData,
                        $"Expected 'Field: value', got '{line}'. Continuation lines must start with a space.", filePath, number);
                paragraph ??= new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                field = match.Groups[1].Value;
                if (paragraph.ContainsKey(field))
                    throw new ImageToolsException("InvalidControlFile", FaultKind.InvalidData,
                        $"Field '{field}' appears twice in one paragraph. Merge the two.", filePath, number);
                paragraph[field] = match.Groups[2].Value.Trim();
                fieldLines[field] = number;
            }
            EndParagraph();
            return new ControlFile(paragraphs, dependencies);
        }

        /// <summary>
        /// Comma-separated relations. For alternatives (<c>a | b</c>) the first is taken: a build
        /// order needs one definite parent, and docker-pkg trees do not use alternatives.
        /// </summary>
        private static IEnumerable<ControlDependency> ParseRelations(string value, string field, int line, string filePath)
        {
            foreach (var raw in value.Split(','))
            {
                var relation = raw.Trim();
                if (relation.Length == 0) continue;
                var first = relation.Split('|')[0].Trim();
                var match = RelationPattern.Match(first);
                if (!match.Success)
                    throw new ImageToolsException("InvalidControlFile", FaultKind.InvalidData,
                        $"'{first}' in {field} is not a name with an optional (version) constraint. Separate names with commas.",
                        filePath, line);
                var constraint = match.Groups["constraint"].Success ? Regex.Replace(match.Groups["constraint"].Value.Trim(), @"\s+", " ") : null;
                yield return new ControlDependency(match.Groups["name"].Value, field, line, constraint);
            }
        }
    }
}
