using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;

namespace ImageTools.Formats.Dockerfiles
{
    /// <summary>
    /// Reads the parts of a Dockerfile that decide what it builds on: parser directives, line
    /// continuations, comments, heredocs, ARG/ENV scoping and expansion, FROM, COPY --from and
    /// RUN --mount from=. Everything else is skipped, not validated: the engine validates at build
    /// time. The semantics follow BuildKit's Dockerfile frontend; where this reader differs the
    /// comment says so.
    /// </summary>
    internal static class DockerfileParser
    {
        public const string SyntaxErrorId = "DockerfileSyntaxError";

        private static readonly Regex StageName = new Regex(@"^[a-z][a-z0-9\-_.]*$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);

        /// <summary>
        /// BuildKit sets these for every build; they are in scope for FROM without an ARG line, but
        /// their values are only known when the build runs.
        /// </summary>
        private static readonly string[] AutomaticPlatformArgs =
        {
            "BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT",
            "TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT",
        };

        /// <param name="text">The Dockerfile text.</param>
        /// <param name="filePath">Only for error messages.</param>
        /// <param name="buildArgs">Values that override ARG defaults (config and image build args).</param>
        public static DockerfileInfo Parse(string text, string filePath, IReadOnlyDictionary<string, string>? buildArgs = null)
        {
            var reader = new Reader(filePath, buildArgs ?? new Dictionary<string, string>());
            var lines = DockerfileLines.Split(text);
            reader.Escape = DockerfileLines.ReadEscape(lines, filePath);
            foreach (var instruction in DockerfileLines.Instructions(lines, reader.Escape, filePath))
                reader.Read(instruction);
            return reader.Finish();
        }

        internal static ImageToolsException Error(string filePath, int? line, string message) =>
            new ImageToolsException(SyntaxErrorId, FaultKind.InvalidData, message, filePath, line);

        /// <summary>A --from / from= source whose meaning (stage or image) is known only once every stage is read.</summary>
        private sealed class Source
        {
            public Source(string text, int line, string instruction, int stageIndex, bool allowIndex)
            {
                Text = text;
                Line = line;
                Instruction = instruction;
                StageIndex = stageIndex;
                AllowIndex = allowIndex;
            }

            public string Text { get; }
            public int Line { get; }
            public string Instruction { get; }
            public int StageIndex { get; }
            public bool AllowIndex { get; }
        }

        private sealed class Reader
        {
            private readonly string _filePath;
            private readonly IReadOnlyDictionary<string, string> _buildArgs;
            private readonly Dictionary<string, string?> _globalDefaults = new Dictionary<string, string?>(StringComparer.Ordinal);
            private readonly Dictionary<string, string?> _globalValues = new Dictionary<string, string?>(StringComparer.Ordinal);
            private readonly List<DockerfileStage> _stages = new List<DockerfileStage>();
            // FROM uses are final when read; COPY/RUN sources may name a later stage (BuildKit resolves them after all stages).
            private readonly List<object> _usesInOrder = new List<object>();
            private readonly List<Dictionary<string, string?>> _stageEnvs = new List<Dictionary<string, string?>>();
            private Dictionary<string, string?>? _stageArgs;

            public Reader(string filePath, IReadOnlyDictionary<string, string> buildArgs)
            {
                _filePath = filePath;
                _buildArgs = buildArgs;
            }

            public char Escape { get; set; } = '\\';

            public void Read(DockerfileInstruction instruction)
            {
                if (instruction.Keyword == "FROM")
                {
                    ReadFrom(instruction);
                    return;
                }
                if (instruction.Keyword == "ARG")
                {
                    ReadArg(instruction);
                    return;
                }
                if (_stageArgs == null)
                    throw Error(_filePath, instruction.Line,
                        $"'{instruction.Keyword}' comes before the first FROM; only ARG may. Move it below a FROM line.");
                switch (instruction.Keyword)
                {
                    case "ENV": ReadEnv(instruction); break;
                    case "COPY": ReadCopy(instruction); break;
                    case "RUN": ReadRun(instruction); break;
                }
            }

            public DockerfileInfo Finish()
            {
                if (_stages.Count == 0)
                    throw Error(_filePath, null, "There is no FROM instruction. A Dockerfile must start its build with FROM <image>.");
                var uses = new List<ImageUse>();
                foreach (var entry in _usesInOrder)
                {
                    if (entry is ImageUse use)
                    {
                        uses.Add(use);
                        continue;
                    }
                    var source = (Source)entry;
                    var stage = FindSourceStage(source);
                    if (stage != null) _stages[source.StageIndex].StageDependencies.Add(stage.Value);
                    // 'context' is BuildKit's name for the build context itself unless a stage is called so.
                    else if (source.Text == "context") continue;
                    else uses.Add(new ImageUse(source.Text, source.Line, source.Instruction, source.StageIndex));
                }
                return new DockerfileInfo(_stages, uses, _globalDefaults);
            }

            private int? FindSourceStage(Source source)
            {
                if (source.AllowIndex && int.TryParse(source.Text, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                {
                    if (index < _stages.Count) return index;
                    throw Error(_filePath, source.Line,
                        $"{source.Instruction}={source.Text} names stage {index}, but the Dockerfile has {_stages.Count} stage(s), numbered from 0. " +
                        "Name an existing stage (better: by its AS name) or an image.");
                }
                return FindStageByName(source.Text, _stages.Count);
            }

            /// <summary>The last stage before <paramref name="before"/> whose AS name matches, case-insensitively.</summary>
            private int? FindStageByName(string name, int before)
            {
                for (var i = before - 1; i >= 0; i--)
                    if (_stages[i].Alias != null && _stages[i].Alias!.Equals(name, StringComparison.OrdinalIgnoreCase)) return i;
                return null;
            }

            private void ReadArg(DockerfileInstruction instruction)
            {
                var words = ShellWord.RawWords(instruction.Arguments, Escape);
                if (words.Count == 0) throw Error(_filePath, instruction.Line, "ARG names no variable. Write ARG NAME[=default].");
                foreach (var word in words)
                {
                    var equals = word.IndexOf('=');
                    var name = equals < 0 ? word : word.Substring(0, equals);
                    if (name.Length == 0) throw Error(_filePath, instruction.Line, $"'{word}' in ARG has no name before '='. Write ARG NAME[=default].");
                    var rawDefault = equals < 0 ? null : word.Substring(equals + 1);
                    if (_stageArgs == null)
                    {
                        var expanded = rawDefault == null ? null : Expand(rawDefault, _globalValues, instruction.Line);
                        _globalDefaults[name] = expanded;
                        _globalValues[name] = _buildArgs.TryGetValue(name, out var given) ? given : expanded;
                        continue;
                    }
                    // In a stage: a build arg wins, then the default, then (ARG without value) the global one.
                    _stageArgs[name] = _buildArgs.TryGetValue(name, out var value) ? value
                        : rawDefault != null ? Expand(rawDefault, StageValues(), instruction.Line)
                        : _globalValues.TryGetValue(name, out var global) ? global : null;
                }
            }

            private void ReadEnv(DockerfileInstruction instruction)
            {
                var env = _stageEnvs[_stages.Count - 1];
                var words = ShellWord.RawWords(instruction.Arguments, Escape);
                if (words.Count == 0) return;
                if (words[0].IndexOf('=') < 0)
                {
                    // Legacy form: ENV NAME value with spaces
                    env[words[0]] = Expand(string.Join(" ", words.Skip(1)), StageValues(), instruction.Line);
                    return;
                }
                foreach (var word in words)
                {
                    var equals = word.IndexOf('=');
                    if (equals > 0) env[word.Substring(0, equals)] = Expand(word.Substring(equals + 1), StageValues(), instruction.Line);
                }
            }

            /// <summary>What $NAME means inside the current stage: its ARGs, overridden by ENV (Docker's rule).</summary>
            private Dictionary<string, string?> StageValues()
            {
                var values = new Dictionary<string, string?>(_stageArgs!, StringComparer.Ordinal);
                foreach (var pair in _stageEnvs[_stages.Count - 1]) values[pair.Key] = pair.Value;
                return values;
            }

            private void ReadFrom(DockerfileInstruction instruction)
            {
                var words = ShellWord.RawWords(instruction.Arguments, Escape);
                string? platform = null;
                var position = 0;
                for (; position < words.Count && words[position].StartsWith("--", StringComparison.Ordinal); position++)
                {
                    var flag = ShellWord.Unquote(words[position], Escape);
                    if (flag.StartsWith("--platform=", StringComparison.Ordinal))
                        platform = ExpandPlatform(flag.Substring("--platform=".Length), instruction.Line);
                }
                var operands = words.Skip(position).ToList();
                if (operands.Count == 0)
                    throw Error(_filePath, instruction.Line, "FROM names no image. Write FROM <image>[:tag] [AS <name>].");
                if (operands.Count != 1 && !(operands.Count == 3 && operands[1].Equals("AS", StringComparison.OrdinalIgnoreCase)))
                    throw Error(_filePath, instruction.Line, $"FROM takes one image and an optional 'AS <name>', not '{instruction.Arguments}'.");
                var alias = operands.Count == 3 ? operands[2] : null;
                if (alias != null && !StageName.IsMatch(alias))
                    throw Error(_filePath, instruction.Line,
                        $"'{alias}' is not a valid stage name. Start it with a letter and use only letters, digits, '-', '_' and '.'.");

                var baseText = ExpandFromImage(operands[0], instruction.Line);
                var baseStage = FindStageByName(baseText, _stages.Count);
                var stage = new DockerfileStage(_stages.Count, alias, baseText, platform, instruction.Line, baseStage);
                if (baseStage is int earlier) stage.StageDependencies.Add(earlier);
                _stages.Add(stage);
                // A stage built on an earlier one inherits its ENV (it is in the image config); ARGs are not inherited.
                _stageEnvs.Add(baseStage is int parent
                    ? new Dictionary<string, string?>(_stageEnvs[parent], StringComparer.Ordinal)
                    : new Dictionary<string, string?>(StringComparer.Ordinal));
                _stageArgs = new Dictionary<string, string?>(StringComparer.Ordinal);
                if (baseStage == null && baseText != "scratch")
                    _usesInOrder.Add(new ImageUse(baseText, instruction.Line, ImageUse.From, stage.Index));
            }

            /// <summary>FROM sees only the global ARGs (build args applied) and BuildKit's automatic platform ARGs.</summary>
            private string ExpandFromImage(string word, int line)
            {
                var text = Expand(word, FromScope(), line, out var unset);
                var platformArgs = unset.Where(IsAutomaticPlatformArg).ToList();
                if (platformArgs.Count > 0)
                    throw Error(_filePath, line,
                        $"FROM {word} uses {string.Join(", ", platformArgs)}, which BuildKit sets only when the build runs, so the base " +
                        "image cannot be known beforehand. Pass a value as a build arg (image.yaml buildArgs or imagetools.yaml), or " +
                        "name the image without it.");
                if (text.Length > 0 && !LooksTruncated(text)) return text;

                var missing = unset.ToList();
                if (text.Length > 0 && missing.Count == 0) return text;
                var reasons = missing.Select(name => _globalValues.ContainsKey(name)
                    ? $"ARG {name} has no value"
                    : $"{name} is not declared with ARG before the first FROM").ToList();
                throw Error(_filePath, line,
                    $"FROM {word} expands to {(text.Length == 0 ? "an empty image reference" : $"'{text}', which is not a complete image reference")}" +
                    (reasons.Count > 0 ? ": " + string.Join("; ", reasons) : "") +
                    ". Give the ARG a default before the first FROM, or pass it as a build arg.");
            }

            /// <summary>An empty variable left a hole where a name part was expected (e.g. '/debian', 'debian:').</summary>
            private static bool LooksTruncated(string reference) =>
                reference[0] == '/' || reference[0] == ':' || reference[0] == '@' ||
                reference.EndsWith("/", StringComparison.Ordinal) || reference.EndsWith(":", StringComparison.Ordinal) ||
                reference.EndsWith("@", StringComparison.Ordinal) || reference.Contains("//") || reference.Contains("/:");

            private string ExpandPlatform(string word, int line)
            {
                var values = FromScope();
                foreach (var name in AutomaticPlatformArgs)
                    if (!values.TryGetValue(name, out var value) || value == null) values[name] = "$" + name;
                return Expand(word, values, line);
            }

            /// <summary>
            /// The global ARGs, plus automatic platform ARGs the caller knows (given as build args):
            /// BuildKit puts those in the FROM scope without an ARG line.
            /// </summary>
            private Dictionary<string, string?> FromScope()
            {
                var values = new Dictionary<string, string?>(_globalValues, StringComparer.Ordinal);
                foreach (var name in AutomaticPlatformArgs)
                    if (_buildArgs.TryGetValue(name, out var given) && (!values.TryGetValue(name, out var declared) || declared == null))
                        values[name] = given;
                return values;
            }

            private static bool IsAutomaticPlatformArg(string name) => Array.IndexOf(AutomaticPlatformArgs, name) >= 0;

            private void ReadCopy(DockerfileInstruction instruction)
            {
                foreach (var flag in Flags(instruction.Arguments))
                {
                    if (!flag.StartsWith("--from=", StringComparison.Ordinal)) continue;
                    var source = Expand(flag.Substring("--from=".Length), StageValues(), instruction.Line, out var unset);
                    if (source.Length == 0)
                        throw Error(_filePath, instruction.Line,
                            $"COPY {flag} names nothing after ARG expansion" +
                            (unset.Count > 0 ? $" ({string.Join(", ", unset)} has no value in this stage)" : "") +
                            ". Declare the ARG in this stage (ARG NAME after FROM) with a value, or name a stage or image.");
                    _usesInOrder.Add(new Source(source, instruction.Line, ImageUse.CopyFrom, _stages.Count - 1, allowIndex: true));
                }
            }

            private void ReadRun(DockerfileInstruction instruction)
            {
                foreach (var flag in Flags(instruction.Arguments))
                {
                    if (!flag.StartsWith("--mount=", StringComparison.Ordinal)) continue;
                    string? type = null, from = null;
                    foreach (var field in SplitCsv(flag.Substring("--mount=".Length)))
                    {
                        var pair = field.Split(new[] { '=' }, 2);
                        var key = pair[0].Trim().ToLowerInvariant();
                        var value = pair.Length == 2 ? pair[1].Trim() : "";
                        if (key == "type") type = value.ToLowerInvariant();
                        else if (key == "from") from = value;
                    }
                    // tmpfs mounts have no source; BuildKit ignores from= on them.
                    if (string.IsNullOrEmpty(from) || type == "tmpfs") continue;
                    var source = Expand(from!, StageValues(), instruction.Line);
                    if (source.Length == 0) continue;
                    _usesInOrder.Add(new Source(source, instruction.Line, ImageUse.RunMount, _stages.Count - 1, allowIndex: true));
                }
            }

            /// <summary>The leading --name=value flags of an instruction, unquoted as BuildKit's flag reader does.</summary>
            private IEnumerable<string> Flags(string arguments) =>
                ShellWord.RawWords(arguments, Escape)
                    .TakeWhile(w => w.StartsWith("--", StringComparison.Ordinal))
                    .Select(w => ShellWord.Unquote(w, Escape));

            /// <summary>Mount options are CSV: commas separate fields, double quotes protect commas.</summary>
            private static IEnumerable<string> SplitCsv(string text)
            {
                var field = new System.Text.StringBuilder();
                var quoted = false;
                foreach (var c in text)
                {
                    if (c == '"') { quoted = !quoted; continue; }
                    if (c == ',' && !quoted)
                    {
                        yield return field.ToString();
                        field.Clear();
                        continue;
                    }
                    field.Append(c);
                }
                yield return field.ToString();
            }

            private string Expand(string word, IReadOnlyDictionary<string, string?> values, int line) =>
                Expand(word, values, line, out _);

            private string Expand(string word, IReadOnlyDictionary<string, string?> values, int line, out IReadOnlyCollection<string> unset) =>
                ShellWord.Expand(word, Escape, values, message => Error(_filePath, line, message), out unset);
        }
    }
}
