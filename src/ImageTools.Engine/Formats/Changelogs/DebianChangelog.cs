using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;

namespace ImageTools.Formats.Changelogs
{
    /// <summary>One entry of a Debian changelog.</summary>
    internal sealed class ChangelogEntry
    {
        internal ChangelogEntry(string package, string version, IReadOnlyList<string> distributions, string urgency,
            IReadOnlyDictionary<string, string> fields, IReadOnlyList<string> changes, string authorName, string authorEmail,
            DateTimeOffset? date, string dateText, int line, string rawText)
        {
            Package = package;
            Version = version;
            Distributions = distributions;
            Urgency = urgency;
            Fields = fields;
            Changes = changes;
            AuthorName = authorName;
            AuthorEmail = authorEmail;
            Date = date;
            DateText = dateText;
            Line = line;
            RawText = rawText;
        }

        public string Package { get; }
        /// <summary>The version as written, e.g. <c>0.1.2-1-s8</c>; see <see cref="DebianVersion"/> to compare.</summary>
        public string Version { get; }
        public IReadOnlyList<string> Distributions { get; }
        /// <summary>The urgency word (<c>medium</c>, <c>high</c>…) without a comment; <c>unknown</c> when the header has none, as dpkg says.</summary>
        public string Urgency { get; }
        /// <summary>Every key=value pair after the ';' as written (urgency included); keys compare case-insensitively.</summary>
        public IReadOnlyDictionary<string, string> Fields { get; }
        /// <summary>
        /// The lines between header and trailer as written, indentation kept (docker-pkg indents
        /// by three spaces, dch by two before '*'), so sub-headers like <c>[ Name ]</c> and
        /// continuation lines stay recognisable. Blank lines before the first and after the last
        /// change line are left out, blank lines between them stay as written; comment lines are left out.
        /// </summary>
        public IReadOnlyList<string> Changes { get; }
        public string AuthorName { get; }
        public string AuthorEmail { get; }
        /// <summary>
        /// Null when the month is a word no reader maps to a month (<c>JMay</c>): python-debian,
        /// which docker-pkg uses, accepts any word there, and such entries are in real trees.
        /// </summary>
        public DateTimeOffset? Date { get; }
        /// <summary>The date as written in the trailer, without trailing spaces.</summary>
        public string DateText { get; }
        /// <summary>1-based line of the header.</summary>
        public int Line { get; }
        /// <summary>
        /// The entry exactly as in the file, line endings included, from its header up to the next
        /// header: the blank and comment lines after the trailer belong to it, and so do the lines
        /// before the first header (for the first entry) and an editor trailer (for the last). The
        /// entries' raw texts concatenated give the file byte for byte.
        /// </summary>
        public string RawText { get; }

        public override string ToString() => $"{Package} ({Version})";
    }

    /// <summary>
    /// A Debian changelog as docker-pkg trees hold them, read the way dpkg-parsechangelog and
    /// python-debian (which docker-pkg uses) read it.
    /// </summary>
    /// <remarks>
    /// Refused, naming the line: anything those tools cannot read or would silently drop — a
    /// header line that does not parse, an entry without trailer, a trailer or date they cannot
    /// read (missing seconds or zone, a day of week without comma), a
    /// header option that is not key=value, text after a trailer that is not a new entry, and an
    /// invalid version.
    /// Accepted as they are: blank or comment lines before the first entry, <c># </c>,
    /// <c>/* */</c> and <c>$Keyword: $</c> lines anywhere, an editor trailer (<c>Local variables:</c>,
    /// <c>vim:</c>) ending the file, options other than urgency, a header without urgency, a
    /// single space before the date, any day-of-week word, a missing day of week, single-digit
    /// days, any month word (python-debian takes any; <c>Sept</c>, <c>June</c> are read, others
    /// leave <see cref="ChangelogEntry.Date"/> null), the nested <c>Name &lt;Name &lt;email&gt;&gt;</c>
    /// docker-pkg writes when DEBEMAIL holds a name, change lines indented by one space or a tab
    /// (python-debian keeps them), and entries without change lines. One leniency beyond both tools: a parenthesised comment after the
    /// zone (<c>+0100 (CET)</c>), which RFC 5322 allows and older changelogs carry.
    /// </remarks>
    internal sealed class DebianChangelog
    {
        private const string NameChars = "[-+0-9A-Za-z.]";
        private static readonly Regex HeaderPattern = new Regex(
            @"^(?<package>[A-Za-z0-9_]" + NameChars + @"*) \((?<version>[^() \t]+)\)(?<dists>(?:[ \t]+" + NameChars + @"+)+);(?<options>.*?)\s*\z",
            RegexOptions.CultureInvariant);
        // The author runs to the last '>': docker-pkg writes 'Name <Name <email>>' when DEBEMAIL
        // holds 'Name <email>', and python-debian reads that back.
        private static readonly Regex TrailerPattern = new Regex(
            @"^ -- (?<author>.*>)(?<sep>[ \t]*)(?<date>[^<>]*?)\s*\z", RegexOptions.CultureInvariant);
        private static readonly Regex OptionPattern = new Regex(@"^(?<key>[-0-9A-Za-z]+)=\s*(?<value>.*\S)\z", RegexOptions.CultureInvariant);
        private static readonly Regex UrgencyPattern = new Regex(@"^(?<word>[-0-9A-Za-z]+)(?:\s+.*)?\z", RegexOptions.CultureInvariant);
        private static readonly Regex DatePattern = new Regex(
            @"^(?:(?<dow>\p{L}+)(?<comma>,?)\s*)?(?<day>\d{1,2})\s+(?<month>\p{L}+)\s+(?<year>\d{4})\s+" +
            @"(?<hour>\d{1,2}):(?<minute>\d\d)(?::(?<second>\d\d))?(?:\s+(?<zone>[-+]\d{4}))?(?<comment>\s+\([^()]*\))?\z",
            RegexOptions.CultureInvariant);
        private static readonly Regex SkippedLinePattern = new Regex(@"^(?:# |/\*.*\*/|\$\w+:.*\$)", RegexOptions.CultureInvariant);
        // dpkg and python-debian stop at these: the rest of the file is editor settings.
        private static readonly Regex EditorTrailerPattern = new Regex(@"^(?:(?:;;\s*)?Local variables:|vim:)", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);
        private static readonly string[] MonthNames =
            { "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December" };

        private const string HeaderExample = "'name (1.0-1) distribution; urgency=medium'";
        private const string TrailerExample = "' -- Name <email>  Sun, 22 Nov 2026 10:00:00 +0000'";

        private DebianChangelog(IReadOnlyList<ChangelogEntry> entries, string text, string preamble)
        {
            Entries = entries;
            Text = text;
            Preamble = preamble;
        }

        /// <summary>Newest first; never empty.</summary>
        public IReadOnlyList<ChangelogEntry> Entries { get; }
        public ChangelogEntry Latest => Entries[0];
        /// <summary>The original text.</summary>
        public string Text { get; }
        /// <summary>
        /// What precedes the first header: blank and comment lines, a byte order mark. A new entry
        /// goes after it, as python-debian keeps these lines at the top (initial_blank_lines).
        /// </summary>
        public string Preamble { get; }

        /// <summary>Parses <paramref name="text"/>; throws <c>InvalidChangelog</c> naming <paramref name="filePath"/> and the line.</summary>
        public static DebianChangelog Parse(string text, string filePath)
        {
            if (text == null) throw new ArgumentNullException(nameof(text));
            var lines = SplitKeepingEndings(text);
            var entries = new List<ChangelogEntry>();
            EntryBuilder? current = null;
            var pendingStart = 0; // first line (0-based) not yet given to an entry

            for (var index = 0; index < lines.Count; index++)
            {
                var line = Content(lines[index], index);
                var number = index + 1;

                var header = HeaderPattern.Match(line);
                if (header.Success)
                {
                    if (current != null)
                    {
                        current.RequireTrailer(filePath, $"before the next entry at line {number}");
                        entries.Add(current.Build(lines, pendingStart, index));
                        pendingStart = index;
                    }
                    current = new EntryBuilder(header, index, filePath);
                    continue;
                }
                if (IsBlank(line))
                {
                    if (current != null && !current.HasTrailer) current.Changes.Add(line);
                    continue;
                }
                if (EditorTrailerPattern.IsMatch(line))
                {
                    if (current != null) break; // the rest belongs to the last entry's raw text
                    throw Invalid(filePath, number, $"The changelog has no entry before '{line}'. Start it with a header like {HeaderExample}.");
                }
                if (SkippedLinePattern.IsMatch(line)) continue;

                if (current == null)
                    throw Invalid(filePath, number, $"Expected an entry header like {HeaderExample}, found '{line}'.");
                if (line.StartsWith(" --", StringComparison.Ordinal))
                {
                    current.ReadTrailer(line, number, filePath);
                    continue;
                }
                if (current.HasTrailer)
                    throw Invalid(filePath, number, char.IsWhiteSpace(line[0])
                        ? $"Change text after the trailer of the entry at line {current.Line}: '{line.Trim()}'. Move it above the trailer, or start a new entry with a header like {HeaderExample}."
                        : $"Expected an entry header like {HeaderExample}, found '{line}'. Check the package name, the version in parentheses and the ';' after the distribution.");
                if (!char.IsWhiteSpace(line[0]))
                    throw Invalid(filePath, number,
                        $"Change lines must be indented (e.g. '  * change'), found '{line}'. Indent it, or end the entry with a trailer like {TrailerExample} first.");
                current.Changes.Add(line);
            }

            if (current == null)
                throw Invalid(filePath, 1, $"The changelog is empty. Add an entry: a header like {HeaderExample}, an indented change and a trailer.");
            current.RequireTrailer(filePath, "before the end of the file");
            entries.Add(current.Build(lines, pendingStart, lines.Count));
            var firstHeader = entries[0].Line - 1;
            var preamble = firstHeader == 0
                ? (text.Length > 0 && text[0] == '\uFEFF' ? "\uFEFF" : "")
                : string.Concat(lines.Take(firstHeader));
            return new DebianChangelog(entries, text, preamble);
        }

        private sealed class EntryBuilder
        {
            private readonly string _package;
            private readonly string _version;
            private readonly IReadOnlyList<string> _distributions;
            private readonly string _urgency;
            private readonly IReadOnlyDictionary<string, string> _fields;
            private string _name = "", _email = "", _dateText = "";
            private DateTimeOffset? _date;

            public EntryBuilder(Match header, int index, string filePath)
            {
                Line = index + 1;
                _package = header.Groups["package"].Value;
                _version = header.Groups["version"].Value;
                if (!DebianVersion.TryParse(_version, out _, out var versionError))
                    throw Invalid(filePath, Line, $"The version '{_version}' is not a Debian version: {versionError}. Write [epoch:]upstream[-revision], e.g. 1.2.3-1.");
                _distributions = header.Groups["dists"].Value.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                _fields = ReadOptions(header.Groups["options"].Value, filePath, Line);
                _urgency = "unknown";
                if (_fields.TryGetValue("urgency", out var urgency))
                {
                    var match = UrgencyPattern.Match(urgency);
                    if (!match.Success)
                        throw Invalid(filePath, Line, $"The urgency '{urgency}' is not a word like low, medium or high. Write 'urgency=medium'.");
                    _urgency = match.Groups["word"].Value;
                }
            }

            public int Line { get; }
            public List<string> Changes { get; } = new List<string>();
            public bool HasTrailer { get; private set; }

            public void ReadTrailer(string line, int number, string filePath)
            {
                if (HasTrailer)
                    throw Invalid(filePath, number, $"The entry at line {Line} already has a trailer. Remove this one, or start a new entry with a header like {HeaderExample} above it.");
                var trailer = TrailerPattern.Match(line);
                if (!trailer.Success || !SplitAuthor(trailer.Groups["author"].Value, out _name, out _email))
                    throw Invalid(filePath, number, $"The trailer must read {TrailerExample}, found '{line.Trim()}'.");
                var separator = trailer.Groups["sep"].Value;
                if (separator != " " && separator != "  ")
                    throw Invalid(filePath, number, $"Put two spaces between '<{_email}>' and the date, like {TrailerExample}.");
                _dateText = trailer.Groups["date"].Value;
                _date = ParseDate(_dateText, filePath, number);
                HasTrailer = true;
            }

            public void RequireTrailer(string filePath, string where)
            {
                if (!HasTrailer)
                    throw Invalid(filePath, Line, $"The entry '{_package} ({_version})' has no trailer {where}. End it with a line like {TrailerExample}.");
            }

            public ChangelogEntry Build(List<string> lines, int rawStart, int rawEnd)
            {
                var changes = Changes.SkipWhile(IsBlank).Reverse().SkipWhile(IsBlank).Reverse().ToList();
                var raw = string.Concat(lines.Skip(rawStart).Take(rawEnd - rawStart));
                return new ChangelogEntry(_package, _version, _distributions, _urgency, _fields, changes, _name, _email, _date, _dateText, Line, raw);
            }
        }

        /// <summary>
        /// <c>Name &lt;email&gt;</c> into its parts: the e-mail is the innermost address at the end;
        /// the name is what comes before the bracket that the closing '>'s open, so the nested
        /// <c>Name &lt;Name &lt;email&gt;&gt;</c> docker-pkg writes reads as Name and email, and a
        /// name holding brackets itself (<c>A &lt;b&gt; C &lt;d@e&gt;</c>) keeps them.
        /// </summary>
        private static bool SplitAuthor(string author, out string name, out string email)
        {
            name = email = "";
            var closing = author.Length - author.TrimEnd('>').Length;
            var innermost = author.LastIndexOf('<');
            if (innermost < 0) return false;
            email = author.Substring(innermost + 1, author.Length - closing - innermost - 1);
            if (email.IndexOfAny(new[] { '<', '>' }) >= 0) return false;
            var opening = innermost;
            for (var depth = 1; depth < closing && opening > 0; depth++)
                opening = author.LastIndexOf('<', opening - 1);
            // python-debian needs a space before the address; a name of blanks is no name.
            if (opening < 1 || author[opening - 1] != ' ') return false;
            name = author.Substring(0, opening).Trim();
            return name.Length > 0;
        }

        private static IReadOnlyDictionary<string, string> ReadOptions(string options, string filePath, int line)
        {
            var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            if (options.Trim().Length == 0) return fields; // dpkg reads the urgency as unknown
            foreach (var raw in options.Split(','))
            {
                var option = raw.Trim();
                var match = OptionPattern.Match(option);
                if (!match.Success)
                    throw Invalid(filePath, line, $"After ';' the header takes comma-separated key=value pairs such as 'urgency=medium', found '{option}'.");
                var key = match.Groups["key"].Value;
                if (fields.ContainsKey(key))
                    throw Invalid(filePath, line, $"The header sets '{key}' twice. Keep one.");
                fields[key] = match.Groups["value"].Value;
            }
            return fields;
        }

        private static DateTimeOffset? ParseDate(string text, string filePath, int line)
        {
            const string expected = "Write it like 'Sun, 22 Nov 2026 10:00:00 +0000' (date -R).";
            var match = DatePattern.Match(text);
            if (!match.Success)
                throw Invalid(filePath, line, $"The trailer date '{text}' is not a date. {expected}");
            if (match.Groups["dow"].Success && match.Groups["comma"].Length == 0)
                throw Invalid(filePath, line, $"The trailer date '{text}' needs a comma after the day of the week. {expected}");
            if (!match.Groups["second"].Success)
                throw Invalid(filePath, line, $"The trailer date '{text}' has no seconds. {expected}");
            if (!match.Groups["zone"].Success)
                throw Invalid(filePath, line, $"The trailer date '{text}' has no time zone offset like +0000. {expected}");

            var zone = match.Groups["zone"].Value;
            try
            {
                var minutes = Number(zone.Substring(3, 2));
                if (minutes > 59) throw new ArgumentOutOfRangeException(nameof(text));
                var offset = new TimeSpan(Number(zone.Substring(1, 2)), minutes, 0);
                var month = MonthOf(match.Groups["month"].Value);
                if (month == 0) return null;
                return new DateTimeOffset(Number(match.Groups["year"].Value), month, Number(match.Groups["day"].Value),
                    Number(match.Groups["hour"].Value), Number(match.Groups["minute"].Value), Number(match.Groups["second"].Value),
                    zone[0] == '-' ? offset.Negate() : offset);
            }
            catch (ArgumentException)
            {
                // ArgumentOutOfRangeException: day 31 of February, hour 25, zone +1500…
                throw Invalid(filePath, line, $"The trailer date '{text}' is not a real date, time or zone offset. {expected}");
            }
        }

        /// <summary>
        /// 1–12 for <c>Nov</c>, and for longer spellings people write (<c>Sept</c>, <c>June</c>,
        /// <c>March</c>: the start of the English name, three letters or more); 0 for any other word.
        /// </summary>
        private static int MonthOf(string word)
        {
            if (word.Length < 3) return 0;
            return Array.FindIndex(MonthNames, m => m.StartsWith(word, StringComparison.OrdinalIgnoreCase)) + 1;
        }

        private static int Number(string digits) => int.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);

        /// <summary>Lines with their own terminators, so raw texts reproduce the file byte for byte.</summary>
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

        /// <summary>The line without its terminator (and without a byte order mark on the first line).</summary>
        private static string Content(string line, int index)
        {
            var content = line.TrimEnd('\n').TrimEnd('\r');
            return index == 0 && content.Length > 0 && content[0] == '\uFEFF' ? content.Substring(1) : content;
        }

        private static bool IsBlank(string line) => line.Trim().Length == 0;

        private static ImageToolsException Invalid(string filePath, int line, string message) =>
            new ImageToolsException("InvalidChangelog", FaultKind.InvalidData, message, filePath, line);
    }
}
