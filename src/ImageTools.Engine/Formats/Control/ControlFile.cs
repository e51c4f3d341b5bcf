using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using ImageTools.Formats.Changelogs;

namespace ImageTools.Formats.Control
{
    /// <summary>A dependency named in a control file's Depends or Build-Depends.</summary>
    internal sealed class ControlDependency
    {
        public ControlDependency(string name, string field, int line, string? versionConstraint)
            : this(name, field, line, versionConstraint, new[] { name })
        {
        }

        public ControlDependency(string name, string field, int line, string? versionConstraint, IReadOnlyList<string> alternatives)
        {
            Name = name;
            Field = field;
            Line = line;
            VersionConstraint = versionConstraint;
            Alternatives = alternatives;
        }

        /// <summary>The image named; for <c>a | b</c> the first alternative.</summary>
        public string Name { get; }
        /// <summary><c>Depends</c> or <c>Build-Depends</c>, spelled so whatever the file's case.</summary>
        public string Field { get; }
        /// <summary>1-based line where the relation starts (a continuation line for a folded field).</summary>
        public int Line { get; }
        /// <summary>e.g. <c>&gt;= 1.0</c> for the first alternative; read, not enforced (docker-pkg ignores versions too).</summary>
        public string? VersionConstraint { get; }
        /// <summary>Every alternative's name in order, <see cref="Name"/> first; one entry when there are none.</summary>
        public IReadOnlyList<string> Alternatives { get; }

        public override string ToString() => VersionConstraint == null ? Name : $"{Name} ({VersionConstraint})";
    }

    /// <summary>
    /// A docker-pkg <c>control</c> file (deb822 paragraphs, Debian policy 5.1). Only Depends and
    /// Build-Depends matter: they name images of the tree that must be built first.
    /// </summary>
    /// <remarks>
    /// Relations follow policy 7.1 — <c>name[:arch] [(op version)] [[arch…]] [&lt;profile…&gt;…]</c>,
    /// alternatives with '|' — but names may also hold '/' and '_', as image names do. Of
    /// <c>a | b</c> the first alternative is the dependency (<see cref="ControlDependency.Alternatives"/>
    /// keeps the rest): a build order needs one definite parent, and docker-pkg, which splits only on
    /// commas and treats each piece as an image name, cannot use alternatives at all. Empty
    /// relations (a trailing comma, an empty field) are skipped, as docker-pkg's split leaves them.
    /// </remarks>
    internal sealed class ControlFile
    {
        private static readonly string[] DependencyFields = { "Build-Depends", "Depends" };
        // Policy 5.1: any printable ASCII but ':' and space, not starting with '#' or '-'. Blanks
        // before the ':' are tolerated, as python-debian (docker-pkg) reads them.
        private static readonly Regex FieldPattern = new Regex(@"^(?<name>[!-\x22\x24-\x2C\x2E-9;-~][!-9;-~]*)[ \t]*:(?<value>.*)\z", RegexOptions.CultureInvariant);
        private static readonly Regex RelationPattern = new Regex(
            @"^(?<name>[^\s:()\[\]<>|,]+)(?::(?<arch>[A-Za-z0-9-]+))?\s*" +
            @"(?:\(\s*(?<op><<|<=|>=|>>|=|<|>)?\s*(?<version>[^\s()]*)\s*\)\s*)?" +
            @"(?:\[(?<archs>[^\[\]]*)\]\s*)?" +
            @"(?:<(?<profiles>[^<>]*)>\s*)*\z",
            RegexOptions.CultureInvariant);
        private static readonly Regex NamePattern = new Regex(@"^[a-z0-9][a-z0-9+._/-]*\z", RegexOptions.CultureInvariant);
        private static readonly Regex ArchListPattern = new Regex(@"^\s*!?[A-Za-z0-9-]+(?:\s+!?[A-Za-z0-9-]+)*\s*\z", RegexOptions.CultureInvariant);
        private static readonly Regex ProfilesPattern = new Regex(@"^\s*!?[a-z0-9][a-z0-9.+-]*(?:\s+!?[a-z0-9][a-z0-9.+-]*)*\s*\z", RegexOptions.CultureInvariant);

        private ControlFile(IReadOnlyList<IReadOnlyDictionary<string, string>> paragraphs, IReadOnlyList<ControlDependency> dependencies)
        {
            Paragraphs = paragraphs;
            Dependencies = dependencies;
        }

        /// <summary>
        /// Field names compare case-insensitively, as deb822 says. A value is its first line
        /// trimmed, then each continuation line without its first space or tab and trailing
        /// spaces, joined by '\n'; a continuation line of a single '.' stands for an empty line.
        /// </summary>
        public IReadOnlyList<IReadOnlyDictionary<string, string>> Paragraphs { get; }
        /// <summary>Build-Depends, then Depends, of each paragraph in file order.</summary>
        public IReadOnlyList<ControlDependency> Dependencies { get; }

        public static ControlFile Parse(string text, string filePath)
        {
            if (text == null) throw new ArgumentNullException(nameof(text));
            var paragraphs = new List<IReadOnlyDictionary<string, string>>();
            var dependencies = new List<ControlDependency>();
            Dictionary<string, string>? paragraph = null;
            // Where each field's value lines come from, to give every relation its own line number.
            var valueLines = new Dictionary<string, List<int>>(StringComparer.OrdinalIgnoreCase);
            string? field = null;
            var lines = text.Split('\n');

            void EndParagraph()
            {
                if (paragraph == null) return;
                paragraphs.Add(paragraph);
                foreach (var name in DependencyFields)
                    if (paragraph.TryGetValue(name, out var value))
                        dependencies.AddRange(ParseRelations(value, name, valueLines[name], filePath));
                paragraph = null;
                field = null;
                valueLines.Clear();
            }

            for (var i = 0; i < lines.Length; i++)
            {
                var line = lines[i].TrimEnd('\r');
                if (i == 0 && line.Length > 0 && line[0] == '\uFEFF') line = line.Substring(1);
                var number = i + 1;
                if (line.StartsWith("#", StringComparison.Ordinal)) continue;
                if (line.Trim().Length == 0) { EndParagraph(); continue; }
                if (line[0] == ' ' || line[0] == '\t')
                {
                    if (field == null)
                        throw Invalid(filePath, number,
                            $"The line '{line.Trim()}' starts with a space but has no field above it to continue. Remove the indentation, or put it under a 'Field: value' line.");
                    var continued = line.Substring(1).TrimEnd();
                    paragraph![field] += "\n" + (continued.Trim() == "." ? "" : continued);
                    valueLines[field].Add(number);
                    continue;
                }
                var match = FieldPattern.Match(line);
                if (!match.Success)
                    throw Invalid(filePath, number, line.IndexOf(':') < 0
                        ? $"Expected 'Field: value', found '{line}'. Add the field name and ':', or indent the line if it continues the field above."
                        : $"'{line.Substring(0, line.IndexOf(':'))}' is not a field name: use ASCII letters, digits and punctuation without spaces, not starting with '-' or '#'.");
                paragraph ??= new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                field = match.Groups["name"].Value;
                if (paragraph.ContainsKey(field))
                    throw Invalid(filePath, number, $"Field '{field}' appears twice in one paragraph. Merge the two, or separate paragraphs with a blank line.");
                paragraph[field] = match.Groups["value"].Value.Trim();
                valueLines[field] = new List<int> { number };
            }
            EndParagraph();
            return new ControlFile(paragraphs, dependencies);
        }

        private static IEnumerable<ControlDependency> ParseRelations(string value, string field, List<int> lineNumbers, string filePath)
        {
            // Offsets in the joined value where each source line starts, to map a relation to its line.
            var starts = new List<int> { 0 };
            for (var i = 0; i < value.Length; i++) if (value[i] == '\n') starts.Add(i + 1);
            int LineAt(int offset)
            {
                var index = starts.Count - 1;
                while (index > 0 && starts[index] > offset) index--;
                return lineNumbers[Math.Min(index, lineNumbers.Count - 1)];
            }

            var offset = 0;
            foreach (var raw in value.Split(','))
            {
                var leading = raw.Length - raw.TrimStart().Length;
                var line = LineAt(offset + leading);
                offset += raw.Length + 1;
                var relation = raw.Trim();
                if (relation.Length == 0) continue;

                var names = new List<string>();
                string? constraint = null;
                foreach (var alternative in relation.Split('|').Select(a => a.Trim()))
                {
                    var (name, version) = ParseAlternative(alternative, relation, field, filePath, line);
                    if (names.Count == 0) constraint = version;
                    names.Add(name);
                }
                yield return new ControlDependency(names[0], field, line, constraint, names);
            }
        }

        private static (string Name, string? Constraint) ParseAlternative(string alternative, string relation, string field, string filePath, int line)
        {
            if (alternative.Length == 0)
                throw Invalid(filePath, line, $"'{relation}' in {field} has an empty alternative. Write 'a | b' with a name on both sides of '|'.");
            var match = RelationPattern.Match(alternative);
            if (!match.Success)
                throw Invalid(filePath, line,
                    $"'{alternative}' in {field} is not a name with optional ':arch', '(op version)', '[arch …]' and '<profile …>'. Separate names with commas.");
            var name = match.Groups["name"].Value;
            if (!NamePattern.IsMatch(name))
                throw Invalid(filePath, line, name.ToLowerInvariant() != name && NamePattern.IsMatch(name.ToLowerInvariant())
                    ? $"'{name}' in {field} must be lower case, as image names are: write '{name.ToLowerInvariant()}'."
                    : $"'{name}' in {field} is not an image or package name: use lower-case letters, digits and '.', '+', '-', '_', '/', starting with a letter or digit.");

            string? constraint = null;
            if (match.Groups["version"].Success) // the parentheses are there
            {
                var op = match.Groups["op"].Value;
                var version = match.Groups["version"].Value;
                if (op.Length == 0 || version.Length == 0)
                    throw Invalid(filePath, line, $"The version constraint of '{name}' in {field} needs an operator and a version, e.g. '{name} (>= 1.0)'.");
                if (op == "<" || op == ">")
                    throw Invalid(filePath, line, $"'{op}' in the constraint of '{name}' is obsolete and ambiguous. Use '{op}{op}' (strictly) or '{op}=' (or equal).");
                if (!DebianVersion.TryParse(version, out _, out var versionError))
                    throw Invalid(filePath, line, $"The version '{version}' required for '{name}' in {field} is not a Debian version: {versionError}.");
                constraint = op + " " + version;
            }
            if (match.Groups["archs"].Success && !ArchListPattern.IsMatch(match.Groups["archs"].Value))
                throw Invalid(filePath, line, $"The architecture list '[{match.Groups["archs"].Value}]' of '{name}' in {field} must be names separated by spaces, e.g. '[amd64 !i386]'.");
            foreach (Capture profiles in match.Groups["profiles"].Captures)
                if (!ProfilesPattern.IsMatch(profiles.Value))
                    throw Invalid(filePath, line, $"The build profiles '<{profiles.Value}>' of '{name}' in {field} must be names separated by spaces, e.g. '<!nocheck>'.");
            return (name, constraint);
        }

        private static ImageToolsException Invalid(string filePath, int line, string message) =>
            new ImageToolsException("InvalidControlFile", FaultKind.InvalidData, message, filePath, line);
    }
}
