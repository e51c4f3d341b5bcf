using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace ImageTools.Formats.Dockerfiles
{
    /// <summary>
    /// Points image references of a Dockerfile elsewhere, in the text that goes to the engine only: a
    /// -Nightly child whose FROM names its parent's plain version tag builds on the parent's nightly tag,
    /// and the plain version tag itself never moves. The file on disk and the inputs digest are untouched.
    /// </summary>
    internal static class DockerfileReferences
    {
        /// <param name="text">The rendered Dockerfile.</param>
        /// <param name="replacements">Each use to repoint (from <c>ImageUses</c>: its line and instruction) and the reference to use instead.</param>
        /// <param name="filePath">For errors.</param>
        public static string Replace(string text, IEnumerable<(ImageUse Use, string Reference)> replacements, string filePath)
        {
            var wanted = replacements.ToList();
            if (wanted.Count == 0) return text;
            var lines = DockerfileLines.Split(text);
            var escape = DockerfileLines.ReadEscape(lines, filePath);
            var instructions = DockerfileLines.Instructions(lines, escape, filePath).ToDictionary(i => i.Line);
            var lineStarts = new List<int> { 0 };
            for (var i = 0; i < text.Length; i++)
                if (text[i] == '\n') lineStarts.Add(i + 1);
            var builder = new StringBuilder(text);
            // From the end backwards, so that each edit leaves the offsets of the ones before it valid.
            foreach (var (use, reference) in wanted.OrderByDescending(r => r.Use.Line))
            {
                if (!instructions.TryGetValue(use.Line, out var instruction))
                    throw Unrewritable(filePath, use, reference, "no instruction starts on that line");
                var flags = ShellWord.RawWords(instruction.Arguments, escape);
                string raw, replacement;
                if (use.Instruction == ImageUse.From)
                {
                    raw = flags.FirstOrDefault(w => !w.StartsWith("--", StringComparison.Ordinal)) ?? throw Unrewritable(filePath, use, reference, "it names no image");
                    replacement = reference;
                }
                else if (use.Instruction == ImageUse.CopyFrom)
                {
                    raw = flags.TakeWhile(w => w.StartsWith("--", StringComparison.Ordinal))
                        .FirstOrDefault(w => ShellWord.Unquote(w, escape).StartsWith("--from=", StringComparison.Ordinal))
                        ?? throw Unrewritable(filePath, use, reference, "it has no --from flag");
                    replacement = "--from=" + reference;
                }
                else
                {
                    // RUN --mount from= sits inside a comma-separated value; BuildKit builds name it once per
                    // mount and the classic builder has no mounts, so it is not rewritten.
                    throw Unrewritable(filePath, use, reference, "a RUN --mount source cannot be repointed");
                }
                var done = false;
                for (var line = instruction.Line; line <= instruction.EndLine && line <= lines.Length && !done; line++)
                {
                    var at = WordIndex(lines[line - 1], raw, escape);
                    if (at < 0) continue;
                    // The split dropped a leading byte order mark from line 1; the text still has it.
                    var offset = lineStarts[line - 1] + at + (line == 1 && text.Length > 0 && text[0] == '\uFEFF' ? 1 : 0);
                    builder.Remove(offset, raw.Length).Insert(offset, replacement);
                    done = true;
                }
                if (!done) throw Unrewritable(filePath, use, reference, "the reference is split over continuation lines");
            }
            return builder.ToString();
        }

        /// <summary>Where <paramref name="word"/> stands as a whole word (blanks, the line's ends or a continuation around it) in the line, else -1.</summary>
        private static int WordIndex(string line, string word, char escape)
        {
            for (var at = line.IndexOf(word, StringComparison.Ordinal); at >= 0; at = line.IndexOf(word, at + 1, StringComparison.Ordinal))
            {
                var end = at + word.Length;
                var before = at == 0 || char.IsWhiteSpace(line[at - 1]);
                var after = end == line.Length || char.IsWhiteSpace(line[end]) || line.Substring(end).TrimEnd() == escape.ToString();
                if (before && after) return at;
            }
            return -1;
        }

        private static ImageToolsException Unrewritable(string filePath, ImageUse use, string reference, string why) =>
            DockerfileParser.Error(filePath, use.Line,
                $"{use.Instruction} {use.Reference} must build on {reference} (a -Nightly build does not move the plain version tag), " +
                $"but it cannot be repointed: {why}. Write the reference on one line, or build without -Nightly.");
    }
}
