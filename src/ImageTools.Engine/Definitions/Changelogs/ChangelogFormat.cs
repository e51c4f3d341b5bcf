using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace ImageTools.Definitions.Changelogs
{
    /// <summary>Writes entries exactly as docker-pkg does (python-debian's ChangeBlock with its create_update).</summary>
    public static class ChangelogFormat
    {
        private static readonly string[] Days = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
        private static readonly string[] Months = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

        /// <summary>
        /// <c>name (version) distribution; urgency=U</c>, a blank line, each change line indented by
        /// three spaces, a blank line, and the trailer. No blank line after the trailer: the caller
        /// puts one between this entry and the next.
        /// </summary>
        public static string FormatEntry(string package, string version, string distribution, string urgency,
            IEnumerable<string> changes, string authorName, string authorEmail, DateTimeOffset date)
        {
            var text = new StringBuilder();
            text.Append(package).Append(" (").Append(version).Append(") ").Append(distribution).Append("; urgency=").Append(urgency).Append('\n');
            text.Append('\n');
            foreach (var line in changes) text.Append("   ").Append(line).Append('\n');
            text.Append('\n');
            text.Append(" -- ").Append(authorName).Append(" <").Append(authorEmail).Append(">  ").Append(FormatDate(date)).Append('\n');
            return text.ToString();
        }

        /// <summary>strftime's <c>%a, %e %b %Y %H:%M:%S %z</c>: the day is space-padded, the zone has no colon.</summary>
        public static string FormatDate(DateTimeOffset date)
        {
            var offset = date.Offset;
            var sign = offset < TimeSpan.Zero ? '-' : '+';
            var absolute = offset.Duration();
            return string.Format(CultureInfo.InvariantCulture, "{0}, {1,2} {2} {3:D4} {4:D2}:{5:D2}:{6:D2} {7}{8:D2}{9:D2}",
                Days[(int)date.DayOfWeek], date.Day, Months[date.Month - 1], date.Year, date.Hour, date.Minute, date.Second,
                sign, absolute.Hours, absolute.Minutes);
        }
    }
}
