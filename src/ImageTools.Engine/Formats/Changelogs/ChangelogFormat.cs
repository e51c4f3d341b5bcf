using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace ImageTools.Formats.Changelogs
{
    /// <summary>Writes entries exactly as docker-pkg does (its create_update through python-debian's new_block).</summary>
    internal static class ChangelogFormat
    {
        /// <summary>docker-pkg indents every line of the reason by three spaces (image.py create_update).</summary>
        public const string ChangeIndent = "   ";

        private static readonly string[] Days = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
        private static readonly string[] Months = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
        private static readonly Regex PackagePattern = new Regex(@"^[A-Za-z0-9_][-+0-9A-Za-z.]*\z", RegexOptions.CultureInvariant);
        private static readonly Regex DistributionPattern = new Regex(@"^[-+0-9A-Za-z.]+(?: [-+0-9A-Za-z.]+)*\z", RegexOptions.CultureInvariant);
        private static readonly Regex UrgencyPattern = new Regex(@"^[-0-9A-Za-z]+\z", RegexOptions.CultureInvariant);

        /// <summary>
        /// One entry as docker-pkg writes it:
        /// <c>name (version) distribution; urgency=U</c>, a blank line, each line of
        /// <paramref name="changes"/> after three spaces (a line holding '\n' is split), a blank line,
        /// <c> -- Name &lt;email&gt;  date</c> and a blank line. Blank lines of the changes end up
        /// below the others, as python-debian's add_change places them (see <see cref="AddChange"/>).
        /// The blank line after the trailer is part of the entry, as python-debian's new_block makes
        /// it, so the new file is this text inserted after the old file's
        /// <see cref="DebianChangelog.Preamble"/>, and the entry's <see cref="ChangelogEntry.RawText"/>
        /// after parsing is this text.
        /// </summary>
        /// <exception cref="ImageToolsException"><c>InvalidChangelogEntry</c> (or <c>InvalidVersion</c>) when a part would not parse back.</exception>
        public static string FormatEntry(string package, string version, string distribution, string urgency,
            IEnumerable<string> changes, string authorName, string authorEmail, DateTimeOffset date)
        {
            if (changes == null) throw new ArgumentNullException(nameof(changes));
            Require(package != null && PackagePattern.IsMatch(package), $"The package name '{package}' may hold only letters, digits and '-', '+', '.'.");
            DebianVersion.Parse(version);
            Require(distribution != null && DistributionPattern.IsMatch(distribution),
                $"The distribution '{distribution}' may hold only letters, digits and '-', '+', '.' (several separated by one space).");
            Require(urgency != null && UrgencyPattern.IsMatch(urgency), $"The urgency '{urgency}' must be one word such as medium or high.");
            Require(!string.IsNullOrWhiteSpace(authorName) && authorName.IndexOfAny(new[] { '<', '>', '\n', '\r' }) < 0,
                $"The author name '{authorName}' must not be empty or hold '<', '>' or line breaks. Set DEBFULLNAME or pass the author.");
            Require(authorEmail != null && authorEmail.IndexOfAny(new[] { '<', '>', '\n', '\r', ' ', '\t' }) < 0,
                $"The author e-mail '{authorEmail}' must not hold '<', '>', spaces or line breaks. Set DEBEMAIL or pass the e-mail.");

            // create_update: add_change(""), add_change("   " + line) per line, add_change("").
            var lines = new List<string>();
            AddChange(lines, "");
            foreach (var change in changes)
                foreach (var line in (change ?? "").Replace("\r\n", "\n").Split('\n'))
                    AddChange(lines, ChangeIndent + line);
            AddChange(lines, "");

            var text = new StringBuilder();
            text.Append(package).Append(" (").Append(version).Append(") ").Append(distribution).Append("; urgency=").Append(urgency).Append('\n');
            foreach (var line in lines) text.Append(line).Append('\n');
            text.Append(" -- ").Append(authorName).Append(" <").Append(authorEmail).Append(">  ").Append(FormatDate(date)).Append('\n');
            text.Append('\n');
            return text.ToString();
        }

        /// <summary>
        /// python-debian's ChangeBlock.add_change: a line goes right after the last non-blank line
        /// (at the end when there is none), "to keep a blank line at the end". So a reason's blank
        /// lines move below its text: <c>a, "", b</c> is written <c>a, b, "", "   "</c>.
        /// </summary>
        private static void AddChange(List<string> lines, string change)
        {
            var lastText = lines.FindLastIndex(line => !string.IsNullOrWhiteSpace(line));
            if (lastText < 0) lines.Add(change);
            else lines.Insert(lastText + 1, change);
        }

        /// <summary>strftime's <c>%a, %e %b %Y %H:%M:%S %z</c> in the C locale: the day is space-padded, the zone has no colon.</summary>
        public static string FormatDate(DateTimeOffset date)
        {
            var offset = date.Offset;
            var sign = offset < TimeSpan.Zero ? '-' : '+';
            var absolute = offset.Duration();
            return string.Format(CultureInfo.InvariantCulture, "{0}, {1,2} {2} {3:D4} {4:D2}:{5:D2}:{6:D2} {7}{8:D2}{9:D2}",
                Days[(int)date.DayOfWeek], date.Day, Months[date.Month - 1], date.Year, date.Hour, date.Minute, date.Second,
                sign, absolute.Hours, absolute.Minutes);
        }

        private static void Require(bool condition, string message)
        {
            if (!condition) throw new ImageToolsException("InvalidChangelogEntry", FaultKind.InvalidArgument, message);
        }
    }
}
