using System;
using System.Globalization;

namespace ImageTools.Formats.Changelogs
{
    /// <summary>
    /// A Debian version <c>[epoch:]upstream[-revision]</c> with dpkg's validation (version_check,
    /// its errors only) and ordering (verrevcmp). Equality is dpkg's: <c>1.0</c> equals <c>0:1.0</c> and <c>1.0-0</c>.
    /// </summary>
    internal sealed class DebianVersion : IComparable<DebianVersion>, IEquatable<DebianVersion>
    {
        private DebianVersion(int epoch, string upstream, string? revision, string text)
        {
            Epoch = epoch;
            Upstream = upstream;
            Revision = revision;
            Text = text;
        }

        /// <summary>0 when the version has none.</summary>
        public int Epoch { get; }
        public string Upstream { get; }
        /// <summary>The part after the last '-'; null for a native version.</summary>
        public string? Revision { get; }
        /// <summary>The version as written.</summary>
        public string Text { get; }

        /// <summary>Parses <paramref name="text"/>; throws <c>InvalidVersion</c> saying which part is wrong.</summary>
        public static DebianVersion Parse(string text, string? filePath = null, int? line = null)
        {
            if (TryParse(text, out var version, out var error)) return version!;
            throw new ImageToolsException("InvalidVersion", FaultKind.InvalidData,
                $"'{text}' is not a Debian version: {error}. Write [epoch:]upstream[-revision], e.g. 1.2.3-1.", filePath, line);
        }

        /// <summary>Parses <paramref name="text"/>; on failure <paramref name="error"/> is a clause naming the wrong part.</summary>
        public static bool TryParse(string? text, out DebianVersion? version, out string? error)
        {
            version = null;
            error = Check(text, out var epoch, out var upstream, out var revision);
            if (error != null) return false;
            version = new DebianVersion(epoch, upstream!, revision, text!);
            return true;
        }

        public int CompareTo(DebianVersion? other) => other is null ? 1 : Compare(this, other);

        /// <summary>dpkg's order: epoch, then upstream, then revision, each by verrevcmp ('~' before anything, even the end).</summary>
        public static int Compare(DebianVersion a, DebianVersion b)
        {
            if (a is null) throw new ArgumentNullException(nameof(a));
            if (b is null) throw new ArgumentNullException(nameof(b));
            if (a.Epoch != b.Epoch) return a.Epoch.CompareTo(b.Epoch);
            var upstream = CompareFragment(a.Upstream, b.Upstream);
            return upstream != 0 ? upstream : CompareFragment(a.Revision ?? "", b.Revision ?? "");
        }

        public bool Equals(DebianVersion? other) => other is not null && Compare(this, other) == 0;

        public override bool Equals(object? obj) => Equals(obj as DebianVersion);

        // Equal versions may be spelled differently (1.01 and 1.1), so only the epoch is hashed.
        public override int GetHashCode() => Epoch;

        public override string ToString() => Text;

        private static string? Check(string? text, out int epoch, out string? upstream, out string? revision)
        {
            epoch = 0;
            upstream = revision = null;
            if (string.IsNullOrEmpty(text)) return "it is empty";
            foreach (var c in text!)
                if (char.IsWhiteSpace(c)) return "it contains white space";

            var rest = text;
            var colon = text.IndexOf(':');
            if (colon >= 0)
            {
                var epochText = text.Substring(0, colon);
                if (epochText.Length == 0) return "the epoch before ':' is empty";
                if (!IsDigits(epochText)) return $"the epoch '{epochText}' before ':' is not a number";
                if (!int.TryParse(epochText, NumberStyles.None, CultureInfo.InvariantCulture, out epoch)) return $"the epoch '{epochText}' is too big";
                rest = text.Substring(colon + 1);
                if (rest.Length == 0) return "nothing follows the epoch's ':'";
            }

            var dash = rest.LastIndexOf('-');
            if (dash >= 0)
            {
                revision = rest.Substring(dash + 1);
                rest = rest.Substring(0, dash);
                if (revision.Length == 0) return "the revision after the last '-' is empty";
                foreach (var c in revision)
                    if (!IsAsciiLetterOrDigit(c) && c != '.' && c != '+' && c != '~')
                        return $"the revision '{revision}' contains '{c}'; it may hold only letters, digits, '.', '+' and '~'";
            }

            if (rest.Length == 0) return "the upstream version is empty";
            // No "must start with a digit": dpkg only warns about it and python-debian (docker-pkg)
            // accepts it, and real trees are tagged so (dispatch v20220915-3, vllm gfx90a…-1).
            foreach (var c in rest)
                if (!IsAsciiLetterOrDigit(c) && c != '.' && c != '+' && c != '~' && c != '-' && c != ':')
                    return $"the upstream version '{rest}' contains '{c}'; it may hold only letters, digits, '.', '+', '~', '-' and ':'";
            upstream = rest;
            return null;
        }

        // dpkg's order(): digits 0 (never compared here), letters by code, '~' below everything, other characters after letters.
        private static int Order(char c) =>
            IsDigit(c) ? 0 : IsAsciiLetter(c) ? c : c == '~' ? -1 : c + 256;

        private static int CompareFragment(string a, string b)
        {
            int i = 0, j = 0;
            while (i < a.Length || j < b.Length)
            {
                while ((i < a.Length && !IsDigit(a[i])) || (j < b.Length && !IsDigit(b[j])))
                {
                    var ac = i < a.Length ? Order(a[i]) : 0;
                    var bc = j < b.Length ? Order(b[j]) : 0;
                    if (ac != bc) return ac - bc;
                    i++;
                    j++;
                }
                while (i < a.Length && a[i] == '0') i++;
                while (j < b.Length && b[j] == '0') j++;
                var firstDiff = 0;
                while (i < a.Length && IsDigit(a[i]) && j < b.Length && IsDigit(b[j]))
                {
                    if (firstDiff == 0) firstDiff = a[i] - b[j];
                    i++;
                    j++;
                }
                if (i < a.Length && IsDigit(a[i])) return 1;
                if (j < b.Length && IsDigit(b[j])) return -1;
                if (firstDiff != 0) return firstDiff;
            }
            return 0;
        }

        private static bool IsDigit(char c) => c >= '0' && c <= '9';
        private static bool IsAsciiLetter(char c) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        private static bool IsAsciiLetterOrDigit(char c) => IsDigit(c) || IsAsciiLetter(c);

        private static bool IsDigits(string text)
        {
            foreach (var c in text) if (!IsDigit(c)) return false;
            return true;
        }
    }
}
