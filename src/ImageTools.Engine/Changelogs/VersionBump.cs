using System.Text.RegularExpressions;

namespace ImageTools.Changelogs
{
    /// <summary>
    /// docker-pkg's rule for the next version of an update (image.py <c>new_tag</c>):
    /// <c>0.1.2 → 0.1.2-s1</c>, <c>0.1.2-1-s8 → 0.1.2-1-s9</c>, with a configurable update id.
    /// It only understands digits, dots and dashes; anything else needs an explicit version.
    /// </summary>
    internal static class VersionBump
    {
        public static string Next(string version, string updateId, string? changelogPath = null, string? imageName = null)
        {
            var pattern = new Regex(@"^([\d\-\.]+?)(-" + Regex.Escape(updateId) + @"(\d+))?$", RegexOptions.CultureInvariant);
            var match = pattern.Match(version);
            if (!match.Success)
                throw new ImageToolsException("VersionNotBumpable", FaultKind.InvalidData,
                    $"Cannot derive the next version from '{version}': the update rule only handles versions made of digits, " +
                    $"dots and dashes (optionally ending in -{updateId}N). Pass -Version to choose the new version.",
                    changelogPath, null, imageName);
            var sequence = match.Groups[3].Success ? int.Parse(match.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture) + 1 : 1;
            return $"{match.Groups[1].Value}-{updateId}{sequence}";
        }
    }
}
