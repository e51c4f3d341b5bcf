using System;
using System.Text.RegularExpressions;

namespace ImageTools.Definitions.Changelogs
{
    /// <summary>A Debian version <c>[epoch:]upstream[-revision]</c> with dpkg's ordering.</summary>
    public sealed class DebianVersion : IComparable<DebianVersion>
    {
        private static readonly Regex UpstreamPattern = new Regex(@"^[0-9][A-Za-z0-9.+~:-]*$", RegexOptions.CultureInvariant);
        private static readonly Regex RevisionPattern = new Regex(@"^[A-Za-z0-9.+~]+$", RegexOptions.CultureInvariant);

        private DebianVersion(int epoch, string upstream, string? revision, string text)
        {
            Epoch = epoch;
            Upstream = upstream;
            Revision = revision;
            Text = text;
        }

        public int Epoch { get; }
        public string Upstream { get; }
        public string? Revision { get; }
        public string Text { get; }

        public static DebianVersion Parse(string text, string? filePath = null, int? line = null)
        {
            if (TryParse(text, out var version, out var error)) return version!;
            throw new ImageToolsException("InvalidVersion", FaultKind.InvalidData,
                $"'{text}' is not a Debian version ({error}). Write [epoch:]upstream[-revision], e.g. 1.2.3-1.", filePath, line);
        }

        public static bool TryParse(string text, out DebianVersion? version, out string? error)
        {
            version = null;
            error = null;
            if (string.IsNullOrEmpty(text) || text.Trim() != text) { error = "it is empty or has spaces"; return false; }
            var epoch = 0;
            var rest = text;
            var colon = text.IndexOf(':');
            if (colon >= 0)
            {
                if (!int.TryParse(text.Substring(0, colon), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out epoch))
                {
                    error = "the epoch before ':' must be a number";
                    return false;
                }
                rest = text.Substring(colon + 1);
            }
            string? revision = null;
            var dash = rest.LastIndexOf('-');
            if (dash >= 0)
            {
                revision = rest.Substring(dash + 1);
                rest = rest.Substring(0, dash);
                if (!RevisionPattern.IsMatch(revision)) { error = $"the revision '{revision}' may only hold letters, digits, '.', '+' and '~'"; return false; }
            }
            if (!UpstreamPattern.IsMatch(rest)) { error = $"the upstream part '{rest}' must start with a digit and hold only letters, digits and . + ~ - :"; return false; }
            if (colon < 0 && rest.IndexOf(':') >= 0) { error = "':' is only allowed with an epoch"; return false; }
            version = new DebianVersion(epoch, rest, revision, text);
            return true;
        }

        public int CompareTo(DebianVersion? other) => other == null ? 1 : Compare(this, other);

        /// <summary>dpkg's comparison: epoch, then upstream, then revision, each by verrevcmp.</summary>
        public static int Compare(DebianVersion a, DebianVersion b)
        {
            if (a.Epoch != b.Epoch) return a.Epoch.CompareTo(b.Epoch);
            var upstream = CompareFragment(a.Upstream, b.Upstream);
            return upstream != 0 ? upstream : CompareFragment(a.Revision ?? "", b.Revision ?? "");
        }

        public override string ToString() => Text;

        // '~' sorts before everything, even the end of the string; letters before non-letters.
        private static int Order(char c) =>
            char.IsDigit(c) ? 0 : char.IsLetter(c) ? c : c == '~' ? -1 : c + 256;

        private static int CompareFragment(string a, string b)
        {
            int i = 0, j = 0;
            while (i < a.Length || j < b.Length)
            {
                var firstDiff = 0;
                while ((i < a.Length && !char.IsDigit(a[i])) || (j < b.Length && !char.IsDigit(b[j])))
                {
                    var ac = i < a.Length ? Order(a[i]) : 0;
                    var bc = j < b.Length ? Order(b[j]) : 0;
                    if (ac != bc) return ac - bc;
                    i++;
                    j++;
                }
                while (i < a.Length && a[i] == '0') i++;
                while (j < b.Length && b[j] == '0') j++;
                while (i < a.Length && char.IsDigit(a[i]) && j < b.Length && char.IsDigit(b[j]))
                {
                    if (firstDiff == 0) firstDiff = a[i] - b[j];
                    i++;
                    j++;
                }
                if (i < a.Length && char.IsDigit(a[i])) return 1;
                if (j < b.Length && char.IsDigit(b[j])) return -1;
                if (firstDiff != 0) return firstDiff;
            }
            return 0;
        }
    }
}
