using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;

namespace ImageTools.Definitions.Dockerfiles
{
    /// <summary>
    /// Reads the parts of a Dockerfile that decide what it builds on: parser directives, line
    /// continuations, comments, heredocs, ARG defaults and expansion, FROM, COPY --from and
    /// RUN --mount from=. Everything else is skipped, not validated: the engine validates at build time.
    /// </summary>
    public static class DockerfileParser
    {
        private static readonly Regex DirectivePattern = new Regex(@"^#\s*([a-zA-Z][a-zA-Z0-9_-]*)\s*=\s*(.*?)\s*$", RegexOptions.CultureInvariant);
        private static readonly Regex HeredocPattern = new Regex(@"<<(-?)\s*(?:""([^""]+)""|'([^']+)'|([A-Za-z_][A-Za-z0-9_]*))", RegexOptions.CultureInvariant);

        public static DockerfileInfo Parse(string text, string filePath, IReadOnlyDictionary<string, string>? buildArgs = null)
        {
            buildArgs ??= new Dictionary<string, string>();
            var lines = text.Replace("\r\n", "\n").Split('\n');
            var escape = ReadDirectives(lines, out var firstLine, filePath);

            var globalArgs = new Dictionary<string, string?>(StringComparer.Ordinal);
            var globalValues = new Dictionary<string, string?>(StringComparer.Ordinal);
            var stages = new List<DockerfileStage>();
            var uses = new List<ImageUse>();
            Dictionary<string, string?>? stageValues = null;

            foreach (var instruction in Instructions(lines, firstLine, escape, filePath))
            {
                var (keyword, rest) = SplitKeyword(instruction.Text);
                switch (keyword)
                {
                    case "ARG":
                        foreach (var (name, value) in ReadArgs(rest, instruction.Line, escape, filePath))
                        {
                            if (stageValues == null)
                            {
                                var expanded = value == null ? null : Expand(value, globalValues, escape, filePath, instruction.Line);
                                globalArgs[name] = expanded;
                                globalValues[name] = buildArgs.TryGetValue(name, out var given) ? given : expanded;
                            }
                            else
                            {
                                // Inside a stage an ARG without value brings in the global one (Docker's scoping).
                                stageValues[name] = buildArgs.TryGetValue(name, out var given) ? given
                                    : value != null ? Expand(value, stageValues, escape, filePath, instruction.Line)
                                    : globalValues.TryGetValue(name, out var global) ? global : null;
                            }
                        }
                        break;
                    case "FROM":
                        stageValues = new Dictionary<string, string?>(StringComparer.Ordinal);
                        var stage = ReadFrom(rest, instruction.Line, stages, globalValues, escape, filePath);
                        stages.Add(stage);
                        if (stage.BaseStageIndex == null && !stage.BaseText.Equals("scratch", StringComparison.OrdinalIgnoreCase))
                            uses.Add(new ImageUse(stage.BaseText, instruction.Line, "FROM", stage.Index));
                        break;
                    default:
                        if (stageValues == null)
                            throw Error(filePath, instruction.Line,
                                $"'{keyword}' comes before the first FROM; only ARG may. Move it below a FROM line.");
                        if (keyword == "ENV") ReadEnv(rest, stageValues, escape, filePath, instruction.Line);
                        else if (keyword == "COPY") ReadCopyFrom(rest, instruction.Line, stages, stageValues, uses, escape, filePath);
                        else if (keyword == "RUN") ReadRunMounts(rest, instruction.Line, stages, stageValues, uses, escape, filePath);
                        break;
                }
            }
            if (stages.Count == 0)
                throw Error(filePath, null, "There is no FROM instruction. A Dockerfile must start its build with FROM <image>.");
            return new DockerfileInfo(stages, uses, globalArgs);
        }

        /// <summary>Parser directives are only recognised at the very top, before any other line.</summary>
        private static char ReadDirectives(string[] lines, out int firstLine, string filePath)
        {
            var escape = '\\';
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            firstLine = 0;
            for (; firstLine < lines.Length; firstLine++)
            {
                var match = DirectivePattern.Match(lines[firstLine].Trim());
                if (!match.Success) break;
                var name = match.Groups[1].Value.ToLowerInvariant();
                if (!seen.Add(name))
                    throw Error(filePath, firstLine + 1, $"The parser directive '{name}' is given twice. Keep one.");
                if (name == "escape")
                {
                    var value = match.Groups[2].Value;
                    if (value != "\\" && value != "`")
                        throw Error(filePath, firstLine + 1, $"The escape directive must be '\\' or '`', not '{value}'.");
                    escape = value[0];
                }
            }
            return escape;
        }

        private readonly struct Instruction
        {
            public Instruction(string text, int line)
            {
                Text = text;
                Line = line;
            }

            public string Text { get; }
            public int Line { get; }
        }

        /// <summary>Logical instructions: continuations joined, comments and heredoc bodies dropped.</summary>
        private static IEnumerable<Instruction> Instructions(string[] lines, int start, char escape, string filePath)
        {
            var i = start;
            while (i < lines.Length)
            {
                var line = lines[i];
                var trimmed = line.TrimStart();
                if (trimmed.Length == 0 || trimmed[0] == '#') { i++; continue; }

                var startLine = i + 1;
                var text = new StringBuilder();
                while (true)
                {
                    var content = lines[i].TrimEnd();
                    var continues = content.Length > 0 && content[content.Length - 1] == escape;
                    text.Append(continues ? content.Substring(0, content.Length - 1) : content);
                    i++;
                    if (!continues) break;
                    // BuildKit drops comment and empty lines inside a continued instruction.
                    while (i < lines.Length && (lines[i].Trim().Length == 0 || lines[i].TrimStart()[0] == '#')) i++;
                    if (i >= lines.Length) break;
                }

                var instruction = text.ToString().Trim();
                var (keyword, _) = SplitKeyword(instruction);
                if (keyword == "RUN" || keyword == "COPY" || keyword == "ADD")
                    i = SkipHeredocs(instruction, lines, i, startLine, filePath);
                yield return new Instruction(instruction, startLine);
            }
        }

        private static int SkipHeredocs(string instruction, string[] lines, int next, int startLine, string filePath)
        {
            foreach (var (word, stripTabs) in HeredocMarkers(instruction))
            {
                while (true)
                {
                    if (next >= lines.Length)
                        throw Error(filePath, startLine, $"The heredoc <<{word} is never closed. End it with a line holding only {word}.");
                    var body = stripTabs ? lines[next].TrimStart('\t') : lines[next];
                    next++;
                    if (body == word) break;
                }
            }
            return next;
        }

        /// <summary>Heredoc markers (&lt;&lt;WORD, &lt;&lt;-WORD, &lt;&lt;"WORD") outside quoted text, in order.</summary>
        private static IEnumerable<(string Word, bool StripTabs)> HeredocMarkers(string instruction)
        {
            char? quote = null;
            for (var i = 0; i < instruction.Length; i++)
            {
                var c = instruction[i];
                if (quote != null) { if (c == quote) quote = null; continue; }
                if (c == '"' || c == '\'') { quote = c; continue; }
                if (c != '<' || i + 1 >= instruction.Length || instruction[i + 1] != '<') continue;
                var match = HeredocPattern.Match(instruction, i);
                if (!match.Success || match.Index != i) continue;
                var word = match.Groups[2].Success ? match.Groups[2].Value : match.Groups[3].Success ? match.Groups[3].Value : match.Groups[4].Value;
                yield return (word, match.Groups[1].Value == "-");
                i += match.Length - 1;
            }
        }

        private static (string Keyword, string Arguments) SplitKeyword(string instruction)
        {
            var space = 0;
            while (space < instruction.Length && !char.IsWhiteSpace(instruction[space])) space++;
            return (instruction.Substring(0, space).ToUpperInvariant(), instruction.Substring(space).Trim());
        }

        private static DockerfileStage ReadFrom(string rest, int line, List<DockerfileStage> stages,
            Dictionary<string, string?> globalValues, char escape, string filePath)
        {
            var words = Words(rest);
            string? platform = null;
            var position = 0;
            for (; position < words.Count && words[position].StartsWith("--", StringComparison.Ordinal); position++)
            {
                var flag = words[position];
                if (flag.StartsWith("--platform=", StringComparison.OrdinalIgnoreCase))
                    platform = Expand(flag.Substring("--platform=".Length), globalValues, escape, filePath, line);
            }
            var operands = words.Skip(position).ToList();
            if (operands.Count == 0)
                throw Error(filePath, line, "FROM names no image. Write FROM <image>[:tag] [AS <name>].");
            if (operands.Count != 1 && !(operands.Count == 3 && operands[1].Equals("AS", StringComparison.OrdinalIgnoreCase)))
                throw Error(filePath, line, $"FROM takes one image and an optional 'AS <name>', not '{rest}'.");
            var alias = operands.Count == 3 ? operands[2] : null;
            var baseText = Expand(operands[0], globalValues, escape, filePath, line);
            if (baseText.Length == 0)
            {
                var missing = VariablesIn(operands[0]).Where(v => !globalValues.TryGetValue(v, out var value) || string.IsNullOrEmpty(value)).ToList();
                throw Error(filePath, line,
                    $"FROM {operands[0]} expands to an empty image reference" +
                    (missing.Count > 0 ? $": ARG {string.Join(", ", missing)} has no value" : "") +
                    ". Give the ARG a default before the first FROM, or pass it as a build arg.");
            }
            var baseStage = FindStage(stages, baseText, allowIndex: false);
            return new DockerfileStage(stages.Count, alias, baseText, platform, line, baseStage);
        }

        private static void ReadCopyFrom(string rest, int line, List<DockerfileStage> stages, Dictionary<string, string?> values,
            List<ImageUse> uses, char escape, string filePath)
        {
            foreach (var flag in Words(rest).TakeWhile(w => w.StartsWith("--", StringComparison.Ordinal)))
            {
                if (!flag.StartsWith("--from=", StringComparison.OrdinalIgnoreCase)) continue;
                var source = Expand(flag.Substring("--from=".Length), values, escape, filePath, line);
                if (source.Length == 0)
                    throw Error(filePath, line, "COPY --from names nothing after ARG expansion. Give the ARG a value or name a stage or image.");
                if (FindStage(stages, source, allowIndex: true) == null)
                    uses.Add(new ImageUse(source, line, "COPY --from", stages.Count - 1));
            }
        }

        private static void ReadRunMounts(string rest, int line, List<DockerfileStage> stages, Dictionary<string, string?> values,
            List<ImageUse> uses, char escape, string filePath)
        {
            foreach (var flag in Words(rest).TakeWhile(w => w.StartsWith("--", StringComparison.Ordinal)))
            {
                if (!flag.StartsWith("--mount=", StringComparison.OrdinalIgnoreCase)) continue;
                foreach (var option in flag.Substring("--mount=".Length).Split(','))
                {
                    var pair = option.Split(new[] { '=' }, 2);
                    if (pair.Length != 2 || !pair[0].Trim().Equals("from", StringComparison.OrdinalIgnoreCase)) continue;
                    var source = Expand(pair[1].Trim(), values, escape, filePath, line);
                    if (source.Length > 0 && FindStage(stages, source, allowIndex: true) == null)
                        uses.Add(new ImageUse(source, line, "RUN --mount", stages.Count - 1));
                }
            }
        }

        /// <summary>An earlier stage named by alias (case-insensitive) or, where allowed, by index.</summary>
        private static int? FindStage(List<DockerfileStage> stages, string name, bool allowIndex)
        {
            if (allowIndex && int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < stages.Count) return index;
            var stage = stages.LastOrDefault(s => s.Alias != null && s.Alias.Equals(name, StringComparison.OrdinalIgnoreCase));
            return stage?.Index;
        }

        private static IEnumerable<(string Name, string? Value)> ReadArgs(string rest, int line, char escape, string filePath)
        {
            var words = Words(rest);
            if (words.Count == 0) throw Error(filePath, line, "ARG names no variable. Write ARG NAME[=default].");
            foreach (var word in words)
            {
                var equals = word.IndexOf('=');
                var name = equals < 0 ? word : word.Substring(0, equals);
                if (name.Length == 0) throw Error(filePath, line, $"'{word}' in ARG has no name before '='.");
                yield return (name, equals < 0 ? null : word.Substring(equals + 1));
            }
        }

        private static void ReadEnv(string rest, Dictionary<string, string?> values, char escape, string filePath, int line)
        {
            var words = Words(rest);
            if (words.Count >= 1 && words[0].IndexOf('=') < 0)
            {
                // Legacy form: ENV NAME value with spaces
                values[words[0]] = Expand(string.Join(" ", words.Skip(1)), values, escape, filePath, line);
                return;
            }
            foreach (var word in words)
            {
                var equals = word.IndexOf('=');
                if (equals > 0) values[word.Substring(0, equals)] = Expand(word.Substring(equals + 1), values, escape, filePath, line);
            }
        }

        /// <summary>Splits on unquoted white space, keeping quotes in the words (expansion removes them).</summary>
        private static List<string> Words(string text)
        {
            var words = new List<string>();
            var current = new StringBuilder();
            char? quote = null;
            foreach (var c in text)
            {
                if (quote == null && char.IsWhiteSpace(c))
                {
                    if (current.Length > 0) { words.Add(current.ToString()); current.Clear(); }
                    continue;
                }
                if (quote == null && (c == '"' || c == '\'')) quote = c;
                else if (quote == c) quote = null;
                current.Append(c);
            }
            if (current.Length > 0) words.Add(current.ToString());
            return words;
        }

        private static IEnumerable<string> VariablesIn(string word) =>
            Regex.Matches(word, @"\$\{?([A-Za-z_][A-Za-z0-9_]*)").Cast<Match>().Select(m => m.Groups[1].Value);

        /// <summary>
        /// Docker's word expansion: $VAR, ${VAR}, ${VAR:-word}, ${VAR-word}, ${VAR:+word}, ${VAR+word},
        /// ${VAR:?msg}; single quotes stop it, the escape character makes '$' literal; quotes are removed.
        /// </summary>
        internal static string Expand(string word, IReadOnlyDictionary<string, string?> values, char escape, string filePath, int line)
        {
            var result = new StringBuilder();
            var inDouble = false;
            for (var i = 0; i < word.Length; i++)
            {
                var c = word[i];
                if (c == escape && i + 1 < word.Length) { result.Append(word[++i]); continue; }
                if (c == '\'' && !inDouble)
                {
                    var close = word.IndexOf('\'', i + 1);
                    if (close < 0) throw Error(filePath, line, $"Unterminated single quote in '{word}'. Close the quote.");
                    result.Append(word, i + 1, close - i - 1);
                    i = close;
                    continue;
                }
                if (c == '"') { inDouble = !inDouble; continue; }
                if (c != '$' || i + 1 >= word.Length) { result.Append(c); continue; }

                if (word[i + 1] == '{')
                {
                    var close = word.IndexOf('}', i + 2);
                    if (close < 0) throw Error(filePath, line, $"Unterminated '${{' in '{word}'. Close it with '}}'.");
                    result.Append(ExpandBraced(word.Substring(i + 2, close - i - 2), values, escape, filePath, line));
                    i = close;
                    continue;
                }
                var end = i + 1;
                while (end < word.Length && (char.IsLetterOrDigit(word[end]) || word[end] == '_')) end++;
                if (end == i + 1) { result.Append(c); continue; }
                result.Append(Lookup(word.Substring(i + 1, end - i - 1), values) ?? "");
                i = end - 1;
            }
            if (inDouble) throw Error(filePath, line, $"Unterminated double quote in '{word}'. Close the quote.");
            return result.ToString();
        }

        private static string ExpandBraced(string inner, IReadOnlyDictionary<string, string?> values, char escape, string filePath, int line)
        {
            var nameEnd = 0;
            while (nameEnd < inner.Length && (char.IsLetterOrDigit(inner[nameEnd]) || inner[nameEnd] == '_')) nameEnd++;
            if (nameEnd == 0) throw Error(filePath, line, $"'${{{inner}}}' has no variable name.");
            var value = Lookup(inner.Substring(0, nameEnd), values);
            var modifier = inner.Substring(nameEnd);
            if (modifier.Length == 0) return value ?? "";
            var colon = modifier[0] == ':';
            var op = colon ? (modifier.Length > 1 ? modifier[1] : '\0') : modifier[0];
            var operand = Expand(modifier.Substring(colon ? 2 : 1), values, escape, filePath, line);
            var isSet = colon ? !string.IsNullOrEmpty(value) : value != null;
            switch (op)
            {
                case '-': return isSet ? value! : operand;
                case '+': return isSet ? operand : "";
                case '?':
                    if (isSet) return value!;
                    throw Error(filePath, line, $"Variable {inner.Substring(0, nameEnd)} is required: {(operand.Length > 0 ? operand : "it has no value")}. Pass it as a build arg.");
                default:
                    throw Error(filePath, line, $"'${{{inner}}}' uses a modifier this reader does not support; use :-, -, :+, + or :?.");
            }
        }

        private static string? Lookup(string name, IReadOnlyDictionary<string, string?> values) =>
            values.TryGetValue(name, out var value) ? value : null;

        private static ImageToolsException Error(string filePath, int? line, string message) =>
            new ImageToolsException("DockerfileSyntaxError", FaultKind.InvalidData, message, filePath, line);
    }
}
