using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;

namespace ImageTools.Definitions.Changelogs
{
    /// <summary>One entry of a Debian changelog.</summary>
    public sealed class ChangelogEntry
    {
        internal ChangelogEntry(string package, string version, IReadOnlyList<string> distributions, string urgency,
            IReadOnlyList<string> changes, string authorName, string authorEmail, DateTimeOffset date, string dateText, int line, string rawText)
        {
            Package = package;
            Version = version;
            Distributions = distributions;
            Urgency = urgency;
            Changes = changes;
            AuthorName = authorName;
            AuthorEmail = authorEmail;
            Date = date;
            DateText = dateText;
            Line = line;
            RawText = rawText;
        }

        public string Package { get; }
        public string Version { get; }
        public IReadOnlyList<string> Distributions { get; }
        public string Urgency { get; }
        /// <summary>The change lines as written (indentation kept), without the blank lines around them.</summary>
        public IReadOnlyList<string> Changes { get; }
        public string AuthorName { get; }
        public string AuthorEmail { get; }
        public DateTimeOffset Date { get; }
        public string DateText { get; }
        /// <summary>1-based line of the header.</summary>
        public int Line { get; }
        /// <summary>The entry exactly as in the file, up to the next header, so untouched entries round-trip.</summary>
        public string RawText { get; }
    }

    /// <summary>
    /// A Debian changelog as docker-pkg trees hold them. Strict where dpkg-parsechangelog is (header
    /// and trailer syntax, dates), tolerant where it is (spacing, day of week, trailing comments).
    /// </summary>
    public sealed class DebianChangelog
    {
        private static readonly Regex HeaderPattern = new Regex(
            @"^(?<package>\w[-+0-9a-z.]*) \((?<version>[^\(\) \t]+)\)(?<dists>(?:\s+[-+0-9A-Za-z./]+)+)\s*;(?<fields>.*)$",
            RegexOptions.CultureInvariant);
        private static readonly Regex TrailerPattern = new Regex(@"^ -- (?<name>.*?) ?<(?<email>[^<>]*)>(?<sep>\s*)(?<date>.*)$", RegexOptions.CultureInvariant);
        private static readonly Regex DatePattern = new Regex(
            @"^(?:(?<dow>[A-Za-z]{3}),?\s*)?(?<day>\d{1,2})\s+(?<month>[A-Za-z]{3})[A-Za-z]*\s+(?<year>\d{4})\s+(?<hour>\d{1,2}):(?<minute>\d\d)(?::(?<second>\d\d))?\s+(?<zone>[-+]\d{4})(?:\s+\([^()]*\))?\s*$",
            RegexOptions.CultureInvariant);
        private static readonly string[] Months = { "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec" };
        // dpkg stops reading at these: the rest of the file is editor settings or history.
        private static readonly string[] EndMarkers = { "Local variables:", "Old Changelog:", "# ", "/*", "vim:" };

        private DebianChangelog(IReadOnlyList<ChangelogEntry> entries, string text)
        {
            Entries = entries;
            Text = text;
        }

        /// <summary>Newest first.</summary>
        public IReadOnlyList<ChangelogEntry> Entries { get; }
        public ChangelogEntry Latest => Entries[0];
        /// <summary>The original text.</summary>
        public string Text { get; }

        public static DebianChangelog Parse(string text, string filePath)
        {
            // Keep each line with its own terminator so RawText reproduces the file byte for byte.
            var lines = SplitKeepingEndings(text);
            var entries = new List<ChangelogEntry>();
            var index = 0;
            while (index < lines.Count && IsBlank(lines[index])) index++;
            if (index == lines.Count)
                throw Invalid(filePath, 1, "The changelog is empty. Add an entry: 'name (version) distribution; urgency=medium'.");
            var leading = string.Concat(lines.Take(index));

            while (index < lines.Count)
            {
                var start = index;
                var header = HeaderPattern.Match(Content(lines[index]));
                if (!header.Success)
                    throw Invalid(filePath, index + 1,
                        $"Expected an entry header like 'name (1.0-1) distribution; urgency=medium', found '{Content(lines[index])}'.");
                var urgency = ReadUrgency(header.Groups["fields"].Value, filePath, index + 1);
                index++;

                var changes = new List<string>();
                Match? trailer = null;
                for (; index < lines.Count; index++)
                {
                    var line = Content(lines[index]);
                    if (line.StartsWith(" -- ", StringComparison.Ordinal))
                    {
                        trailer = TrailerPattern.Match(line);
                        if (!trailer.Success)
                            throw Invalid(filePath, index + 1, "The trailer must read ' -- Name <email>  Day, dd Mon yyyy hh:mm:ss +zzzz'.");
                        index++;
                        break;
                    }
                    if (IsBlank(lines[index]) || line[0] == ' ' || line[0] == '\t') { changes.Add(line); continue; }
                    if (HeaderPattern.IsMatch(line)) break;
                    throw Invalid(filePath, index + 1, "Change lines must be indented (e.g. '  * change'); put the text under an indented bullet.");
                }
                if (trailer == null)
                    throw Invalid(filePath, start + 1,
                        "This entry has no trailer. End it with ' -- Name <email>  Day, dd Mon yyyy hh:mm:ss +zzzz'.");
                var dateText = trailer.Groups["date"].Value;
                var date = ParseDate(dateText, filePath, index);

                // Blank lines (and a final editor trailer) up to the next header belong to this entry.
                while (index < lines.Count && !HeaderPattern.IsMatch(Content(lines[index])))
                {
                    if (!IsBlank(lines[index]))
                    {
                        if (!EndMarkers.Any(m => Content(lines[index]).StartsWith(m, StringComparison.Ordinal)))
                            throw Invalid(filePath, index + 1,
                                $"Unexpected text after the trailer: '{Content(lines[index])}'. Start a new entry with a header line.");
                        index = lines.Count;
                        break;
                    }
                    index++;
                }

                var raw = (entries.Count == 0 ? leading : "") + string.Concat(lines.Skip(start).Take(index - start));
                var trimmedChanges = changes.SkipWhile(string.IsNullOrWhiteSpace).Reverse().SkipWhile(string.IsNullOrWhiteSpace).Reverse().ToList();
                var distributions = header.Groups["dists"].Value.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                entries.Add(new ChangelogEntry(header.Groups["package"].Value, header.Groups["version"].Value, distributions, urgency,
                    trimmedChanges, trailer.Groups["name"].Value.Trim(), trailer.Groups["email"].Value, date, dateText, start + 1, raw));
            }
            return new DebianChangelog(entries, text);
        }

        private static string ReadUrgency(string fields, string filePath, int line)
        {
            foreach (var field in fields.Split(','))
            {
                var pair = field.Split(new[] { '=' }, 2);
                if (pair.Length != 2)
                {
                    if (field.Trim().Length == 0) continue;
                    throw Invalid(filePath, line, $"After ';' the header needs key=value pairs such as 'urgency=medium', found '{field.Trim()}'.");
                }
                if (pair[0].Trim().Equals("urgency", StringComparison.OrdinalIgnoreCase)) return pair[1].Trim();
            }
            throw Invalid(filePath, line, "The header has no urgency. End it with '; urgency=medium'.");
        }

        private static DateTimeOffset ParseDate(string text, string filePath, int line)
        {
            var match = DatePattern.Match(text);
            var month = match.Success ? Array.IndexOf(Months, match.Groups["month"].Value.ToLowerInvariant()) + 1 : 0;
            if (month == 0)
                throw Invalid(filePath, line, $"The trailer date '{text}' is not like 'Sun, 22 Nov 2026 10:00:00 +0000' (RFC 2822).");
            var zone = match.Groups["zone"].Value;
            var offset = new TimeSpan(int.Parse(zone.Substring(1, 2), CultureInfo.InvariantCulture), int.Parse(zone.Substring(3, 2), CultureInfo.InvariantCulture), 0);
            try
            {
                return new DateTimeOffset(
                    int.Parse(match.Groups["year"].Value, CultureInfo.InvariantCulture), month, int.Parse(match.Groups["day"].Value, CultureInfo.InvariantCulture),
                    int.Parse(match.Groups["hour"].Value, CultureInfo.InvariantCulture), int.Parse(match.Groups["minute"].Value, CultureInfo.InvariantCulture),
                    match.Groups["second"].Success ? int.Parse(match.Groups["second"].Value, CultureInfo.InvariantCulture) : 0,
                    zone[0] == '-' ? offset.Negate() : offset);
            }
            catch (ArgumentOutOfRangeException)
            {
                throw Invalid(filePath, line, $"The trailer date '{text}' is not a real date or time.");
            }
        }

        private static List<string> SplitKeepingEndings(string text)
        {
            var lines = new List<string>();
            var start = 0;
            for (var i = 0; i < text.Length; i++)
            {
                if (text[i] != '\n') continue;
                lines.Add(text.Substring(start, i - start + 1));
                start = i + 1;
            }
            if (start < text.Length) lines.Add(text.Substring(start));
            return lines;
        }

        private static string Content(string line) => line.TrimEnd('\n', '\r');

        private static bool IsBlank(string line) => Content(line).Trim().Length == 0;

        private static ImageToolsException Invalid(string filePath, int line, string message) =>
            new ImageToolsException("InvalidChangelog", FaultKind.InvalidData, message, filePath, line);
    }
}
