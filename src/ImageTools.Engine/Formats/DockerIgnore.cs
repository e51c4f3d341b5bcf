using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;

namespace ImageTools.Formats
{
    /// <summary>
    /// <c>.dockerignore</c> with Docker's semantics (moby/patternmatcher): Go filepath.Match syntax
    /// plus <c>**</c>, <c>!</c> exceptions where the last matching pattern wins, and a pattern that
    /// matches a directory excluding everything below it.
    /// </summary>
    internal sealed class DockerIgnore
    {
        private readonly List<(Regex Pattern, bool Exception, string Text)> _patterns;

        private DockerIgnore(List<(Regex, bool, string)> patterns) => _patterns = patterns;

        public static DockerIgnore Empty { get; } = new DockerIgnore(new List<(Regex, bool, string)>());

        /// <summary>True when some pattern is an exception, so an excluded directory must still be walked.</summary>
        public bool HasExceptions => _patterns.Any(p => p.Exception);

        public static DockerIgnore Parse(string text, string filePath)
        {
            var patterns = new List<(Regex, bool, string)>();
            var lines = text.Replace("\r\n", "\n").Split('\n');
            for (var i = 0; i < lines.Length; i++)
            {
                var line = lines[i].Trim();
                if (line.Length == 0 || line[0] == '#') continue;
                var exception = line[0] == '!';
                if (exception) line = line.Substring(1).Trim();
                var pattern = Clean(line);
                if (pattern.Length == 0) continue;
                try { patterns.Add((Compile(pattern), exception, line)); }
                catch (ArgumentException e)
                {
                    throw new ImageToolsException("InvalidDockerignore", FaultKind.InvalidData,
                        $"'{lines[i].Trim()}' is not a valid pattern ({e.Message}). Check brackets and escapes.", filePath, i + 1, inner: e);
                }
            }
            return new DockerIgnore(patterns);
        }

        /// <summary>Whether a path of the context ('/'-separated, relative) is left out of the build.</summary>
        public bool IsExcluded(string relativePath)
        {
            var parents = relativePath.Split('/');
            var excluded = false;
            foreach (var (pattern, exception, _) in _patterns)
            {
                if (exception && !excluded) continue;
                var match = pattern.IsMatch(relativePath);
                // A pattern matching a parent directory matches everything below it.
                for (var depth = 1; !match && depth < parents.Length; depth++)
                    match = pattern.IsMatch(string.Join("/", parents, 0, depth));
                if (match) excluded = !exception;
            }
            return excluded;
        }

        /// <summary>filepath.Clean, then no leading '/': patterns are relative to the context root.</summary>
        private static string Clean(string pattern)
        {
            var parts = new List<string>();
            foreach (var part in pattern.Split('/'))
            {
                if (part.Length == 0 || part == ".") continue;
                if (part == ".." && parts.Count > 0 && parts[parts.Count - 1] != "..") parts.RemoveAt(parts.Count - 1);
                else parts.Add(part);
            }
            return string.Join("/", parts);
        }

        private static Regex Compile(string pattern)
        {
            var regex = new StringBuilder("^");
            for (var i = 0; i < pattern.Length; i++)
            {
                var c = pattern[i];
                if (c == '*')
                {
                    if (i + 1 < pattern.Length && pattern[i + 1] == '*')
                    {
                        i++;
                        // "**/" is "**": any number of directories, including none.
                        if (i + 1 < pattern.Length && pattern[i + 1] == '/') i++;
                        regex.Append(i + 1 >= pattern.Length ? ".*" : "(.*/)?");
                    }
                    else regex.Append("[^/]*");
                }
                else if (c == '?') regex.Append("[^/]");
                else if (c == '[')
                {
                    var close = pattern.IndexOf(']', i + 1);
                    if (close < 0) throw new ArgumentException("unterminated [");
                    var body = pattern.Substring(i + 1, close - i - 1);
                    regex.Append('[').Append(body.StartsWith("^", StringComparison.Ordinal) || body.StartsWith("!", StringComparison.Ordinal)
                        ? "^" + Regex.Escape(body.Substring(1)).Replace("\\-", "-") : Regex.Escape(body).Replace("\\-", "-")).Append(']');
                    i = close;
                }
                else if (c == '\\' && i + 1 < pattern.Length) regex.Append(Regex.Escape(pattern[++i].ToString()));
                else regex.Append(Regex.Escape(c.ToString()));
            }
            return new Regex(regex.Append('$').ToString(), RegexOptions.CultureInvariant);
        }
    }
}
