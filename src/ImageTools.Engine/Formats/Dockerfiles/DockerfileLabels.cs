using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace ImageTools.Formats.Dockerfiles
{
    /// <summary>A Dockerfile with labels written into it, and the labels a Dockerfile line cannot carry.</summary>
    internal sealed class LabeledDockerfile
    {
        public LabeledDockerfile(string text, IReadOnlyDictionary<string, string> unplaced)
        {
            Text = text;
            Unplaced = unplaced;
        }

        public string Text { get; }
        /// <summary>Labels left for <c>--label</c>: a newline in a value, or a key with '=' (no Dockerfile spelling keeps them exact).</summary>
        public IReadOnlyDictionary<string, string> Unplaced { get; }
    }

    /// <summary>
    /// Writes build labels into a Dockerfile as one <c>LABEL</c> instruction at the end of the stage
    /// that is built. The classic builder turns every <c>--label</c> flag into a step of its own (a
    /// container and a commit each); one instruction is one step, and as the last step of the stage
    /// it leaves the cache of every step before it intact even though <c>created</c> changes each build.
    /// </summary>
    internal static class DockerfileLabels
    {
        /// <param name="text">The rendered Dockerfile.</param>
        /// <param name="target">The stage that is built (<c>--target</c>); null for the last one.</param>
        /// <param name="labels">Key and value of each label.</param>
        public static LabeledDockerfile AddToBuiltStage(string text, string? target, IReadOnlyDictionary<string, string> labels)
        {
            var placeable = labels.Where(l => CanWrite(l.Key, l.Value)).OrderBy(l => l.Key, StringComparer.Ordinal).ToList();
            var unplaced = labels.Where(l => !CanWrite(l.Key, l.Value)).ToDictionary(l => l.Key, l => l.Value, StringComparer.Ordinal);
            if (placeable.Count == 0) return new LabeledDockerfile(text, unplaced);

            var lines = DockerfileLines.Split(text);
            var escape = DockerfileLines.ReadEscape(lines, "Dockerfile");
            var instructions = DockerfileLines.Instructions(lines, escape, "Dockerfile").ToList();
            var stageEnd = LastInstructionOfStage(instructions, target);
            if (stageEnd == null)
            {
                // No such stage (or no FROM): the engine says so in its own words; the labels stay flags.
                return new LabeledDockerfile(text, labels.ToDictionary(l => l.Key, l => l.Value, StringComparer.Ordinal));
            }

            var instruction = "LABEL " + string.Join(" ", placeable.Select(l => Quote(l.Key, escape) + "=" + Quote(l.Value, escape)));
            var lineStarts = LineStarts(text);
            var builder = new StringBuilder(text);
            var insertAt = stageEnd.EndLine < lineStarts.Count ? lineStarts[stageEnd.EndLine] : text.Length;
            var newline = insertAt >= 2 && text[insertAt - 1] == '\n' && text[insertAt - 2] == '\r' ? "\r\n" : "\n";
            var needsBreak = insertAt == text.Length && text.Length > 0 && text[text.Length - 1] != '\n';
            builder.Insert(insertAt, (needsBreak ? newline : "") + instruction + newline);
            if (stageEnd.ContinuesAtEnd) RemoveDanglingContinuation(builder, lines, lineStarts, stageEnd.EndLine, escape);
            return new LabeledDockerfile(builder.ToString(), unplaced);
        }

        /// <summary>Inside double quotes a Dockerfile keeps everything but <c>"</c>, <c>$</c> and the escape character, which it takes escaped.</summary>
        internal static string Quote(string value, char escape)
        {
            var quoted = new StringBuilder(value.Length + 2).Append('"');
            foreach (var c in value)
            {
                if (c == '"' || c == '$' || c == escape) quoted.Append(escape);
                quoted.Append(c);
            }
            return quoted.Append('"').ToString();
        }

        // A line break ends the instruction, and an escaped one joins lines without a break: no spelling keeps a newline.
        // The classic builder splits LABEL words at the first '=', so a key may not hold one.
        private static bool CanWrite(string key, string value) =>
            key.Length > 0 && key.IndexOfAny(new[] { '=', '\n', '\r' }) < 0 && value.IndexOfAny(new[] { '\n', '\r' }) < 0;

        private static DockerfileInstruction? LastInstructionOfStage(IReadOnlyList<DockerfileInstruction> instructions, string? target)
        {
            DockerfileInstruction? last = null;
            var inStage = false;
            foreach (var instruction in instructions)
            {
                if (instruction.Keyword == "FROM")
                {
                    if (inStage && target != null) return last;
                    inStage = target == null || target.Equals(StageName(instruction.Arguments), StringComparison.OrdinalIgnoreCase);
                }
                if (inStage) last = instruction;
            }
            return inStage ? last : null;
        }

        /// <summary>The AS name of a FROM: <c>[--platform=…] image AS name</c>.</summary>
        private static string? StageName(string fromArguments)
        {
            var words = fromArguments.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
            return words.Length >= 2 && words[words.Length - 2].Equals("AS", StringComparison.OrdinalIgnoreCase) ? words[words.Length - 1] : null;
        }

        /// <summary>Where each line starts in the text; entry n is the offset of line n + 1.</summary>
        private static List<int> LineStarts(string text)
        {
            var starts = new List<int> { 0 };
            for (var i = 0; i < text.Length; i++)
                if (text[i] == '\n') starts.Add(i + 1);
            return starts;
        }

        /// <summary>
        /// A file that ends inside a continuation ends the instruction there; an instruction after it
        /// would be joined to it instead. The escape character at the end of its last content line goes.
        /// </summary>
        private static void RemoveDanglingContinuation(StringBuilder builder, string[] lines, List<int> lineStarts, int endLine, char escape)
        {
            for (var line = endLine; line >= 1; line--)
            {
                var content = lines[line - 1];
                var trimmed = content.TrimStart();
                if (trimmed.Length == 0 || trimmed[0] == '#') continue;
                var end = content.Length;
                while (end > 0 && (content[end - 1] == ' ' || content[end - 1] == '\t')) end--;
                if (end == 0 || content[end - 1] != escape) return;
                // The split dropped a leading byte order mark from line 1; the text still has it.
                var offset = lineStarts[line - 1] + (line == 1 && builder.Length > 0 && builder[0] == '\uFEFF' ? 1 : 0);
                builder.Remove(offset + end - 1, 1);
                return;
            }
        }
    }
}
