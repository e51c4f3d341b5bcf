using System;
using System.Collections.Generic;
using System.Text.RegularExpressions;

namespace ImageTools.Formats.Dockerfiles
{
    /// <summary>One logical instruction: continuation lines joined, comments and heredoc bodies left out.</summary>
    internal sealed class DockerfileInstruction
    {
        public DockerfileInstruction(string keyword, string arguments, int line, int endLine = 0, bool continuesAtEnd = false)
        {
            Keyword = keyword;
            Arguments = arguments;
            Line = line;
            EndLine = endLine == 0 ? line : endLine;
            ContinuesAtEnd = continuesAtEnd;
        }

        /// <summary>Upper case: instructions are case-insensitive.</summary>
        public string Keyword { get; }
        public string Arguments { get; }
        /// <summary>The line the instruction starts on.</summary>
        public int Line { get; }
        /// <summary>The last line the instruction takes (continuations and heredoc bodies included).</summary>
        public int EndLine { get; }
        /// <summary>Its last line ends with a continuation that the end of the file cut off.</summary>
        public bool ContinuesAtEnd { get; }
    }

    /// <summary>
    /// The line level of BuildKit's parser (frontend/dockerfile/parser/parser.go): parser directives,
    /// comments, line continuations and heredoc bodies.
    /// </summary>
    internal static class DockerfileLines
    {
        private static readonly Regex DirectivePattern = new Regex(@"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$", RegexOptions.CultureInvariant);
        private static readonly Regex HeredocPattern = new Regex(@"^(\d*)<<(-?)([^<]*)$", RegexOptions.CultureInvariant);
        private static readonly HashSet<string> KnownDirectives = new HashSet<string>(StringComparer.Ordinal) { "syntax", "escape", "check" };
        private static readonly HashSet<string> HeredocInstructions = new HashSet<string>(StringComparer.Ordinal) { "RUN", "COPY", "ADD" };

        public static string[] Split(string text)
        {
            if (text.Length > 0 && text[0] == '\uFEFF') text = text.Substring(1);
            var lines = text.Split('\n');
            for (var i = 0; i < lines.Length; i++) lines[i] = lines[i].TrimEnd('\r');
            return lines;
        }

        /// <summary>
        /// The escape character from the directives at the top. Directives end at the first line that
        /// is not one: an instruction, a blank line, a plain comment or an unknown directive.
        /// </summary>
        public static char ReadEscape(string[] lines, string filePath)
        {
            var escape = '\\';
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < lines.Length; i++)
            {
                var match = DirectivePattern.Match(lines[i].TrimStart());
                if (!match.Success) break;
                var name = match.Groups[1].Value.ToLowerInvariant();
                if (!KnownDirectives.Contains(name)) break;
                if (!seen.Add(name))
                    throw DockerfileParser.Error(filePath, i + 1, $"The parser directive '{name}' is given twice. Keep one.");
                if (name != "escape") continue;
                var value = match.Groups[2].Value;
                if (value != "\\" && value != "`")
                    throw DockerfileParser.Error(filePath, i + 1, $"The escape directive must be '\\' or '`', not '{value}'.");
                escape = value[0];
            }
            return escape;
        }

        public static IEnumerable<DockerfileInstruction> Instructions(string[] lines, char escape, string filePath)
        {
            var i = 0;
            while (i < lines.Length)
            {
                var first = lines[i].TrimStart();
                var startLine = ++i;
                if (first.Length == 0 || first[0] == '#') continue;

                var continues = TrimContinuation(ref first, escape);
                var text = first;
                while (continues && i < lines.Length)
                {
                    var next = lines[i++];
                    var trimmed = next.TrimStart();
                    // BuildKit drops comment and blank lines inside a continued instruction.
                    if (trimmed.Length == 0 || trimmed[0] == '#') continue;
                    continues = TrimContinuation(ref next, escape);
                    text += next;
                }
                if (text.Trim().Length == 0) continue;

                var (keyword, arguments) = SplitKeyword(text);
                if (HeredocInstructions.Contains(keyword))
                    i = SkipHeredocBodies(text, lines, i, startLine, filePath);
                yield return new DockerfileInstruction(keyword, arguments, startLine, i, continues);
            }
        }

        /// <summary>
        /// A line continues when it ends with the escape character (blanks after it allowed) that is
        /// not itself escaped: BuildKit's <c>([^\])\[ \t]*$|^\[ \t]*$</c>.
        /// </summary>
        private static bool TrimContinuation(ref string line, char escape)
        {
            var end = line.Length;
            while (end > 0 && (line[end - 1] == ' ' || line[end - 1] == '\t')) end--;
            if (end == 0 || line[end - 1] != escape) return false;
            if (end >= 2 && line[end - 2] == escape) return false;
            line = line.Substring(0, end - 1);
            return true;
        }

        private static (string Keyword, string Arguments) SplitKeyword(string instruction)
        {
            var text = instruction.Trim();
            var space = 0;
            while (space < text.Length && !char.IsWhiteSpace(text[space])) space++;
            return (text.Substring(0, space).ToUpperInvariant(), text.Substring(space).Trim());
        }

        private static int SkipHeredocBodies(string instruction, string[] lines, int next, int startLine, string filePath)
        {
            foreach (var (word, stripTabs) in HeredocMarkers(instruction))
            {
                while (true)
                {
                    if (next >= lines.Length)
                        throw DockerfileParser.Error(filePath, startLine,
                            $"The heredoc <<{word} is never closed. End it with a line holding only '{word}'.");
                    var body = stripTabs ? lines[next].TrimStart('\t') : lines[next];
                    next++;
                    if (body == word) break;
                }
            }
            return next;
        }

        /// <summary>
        /// Heredoc markers as BuildKit finds them: a whole shell word <c>[n]&lt;&lt;[-]WORD</c>, where WORD
        /// may be quoted. <c>cat&lt;&lt;EOF</c> and <c>&lt;&lt; EOF</c> are not heredocs; neither is the exec (JSON) form.
        /// </summary>
        private static IEnumerable<(string Word, bool StripTabs)> HeredocMarkers(string instruction)
        {
            var words = ShellWord.RawWords(instruction, '\\');
            var firstOperand = 1;
            while (firstOperand < words.Count && words[firstOperand].StartsWith("--", StringComparison.Ordinal)) firstOperand++;
            if (firstOperand < words.Count && words[firstOperand].StartsWith("[", StringComparison.Ordinal)
                && instruction.TrimEnd().EndsWith("]", StringComparison.Ordinal))
                yield break;
            foreach (var word in words)
            {
                var match = HeredocPattern.Match(word);
                if (!match.Success || match.Groups[3].Value.Length == 0) continue;
                var name = ShellWord.Unquote(match.Groups[3].Value, '\\');
                if (name.Length == 0) continue;
                yield return (name, match.Groups[2].Value == "-");
            }
        }
    }
}
