using System;
using System.Diagnostics;
using ImageTools.Definitions;

namespace ImageTools.Changelogs
{
    /// <summary>Who signs a changelog entry.</summary>
    internal sealed class ChangelogAuthor
    {
        public ChangelogAuthor(string name, string email)
        {
            Name = name;
            Email = email;
        }

        public string Name { get; }
        public string Email { get; }

        /// <summary>
        /// Parameters first, then DEBFULLNAME/DEBEMAIL, then git config, then the tree's fallback
        /// (docker-pkg's order), field by field. docker-pkg (image.py _get_author) ties the e-mail to
        /// the name: without git user.name it skips git's user.email, and a git with user.name but no
        /// user.email stops it with an error; each field stands alone here.
        /// </summary>
        public static ChangelogAuthor Resolve(string? name, string? email, TreeConfig config,
            Func<string, string?>? environment = null, Func<string, string?>? gitConfig = null)
        {
            environment ??= Environment.GetEnvironmentVariable;
            gitConfig ??= key => GitConfig(key, config.FilePath == null ? null : System.IO.Path.GetDirectoryName(config.FilePath));
            var resolvedName = NonEmpty(name) ?? NonEmpty(environment("DEBFULLNAME")) ?? NonEmpty(gitConfig("user.name"))
                ?? config.FallbackAuthor ?? "Author";
            var resolvedEmail = AddressOf(NonEmpty(email) ?? NonEmpty(environment("DEBEMAIL")) ?? NonEmpty(gitConfig("user.email"))
                ?? config.FallbackEmail ?? "email@domain");
            return new ChangelogAuthor(resolvedName, resolvedEmail);
        }

        /// <summary>git config --get KEY in <paramref name="directory"/>; null when git is missing or the key unset.</summary>
        public static string? GitConfig(string key, string? directory)
        {
            try
            {
                var start = new ProcessStartInfo("git", "config --get " + key)
                {
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    UseShellExecute = false,
                    CreateNoWindow = true,
                    WorkingDirectory = directory ?? Environment.CurrentDirectory,
                };
                using var process = Process.Start(start)!;
                var output = process.StandardOutput.ReadToEnd();
                if (!process.WaitForExit(10_000)) { process.Kill(); return null; }
                return process.ExitCode == 0 ? output.Trim() : null;
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception || e is InvalidOperationException)
            {
                return null;
            }
        }

        /// <summary>
        /// The address of <c>Name &lt;email&gt;</c>, which Debian tools accept in DEBEMAIL. docker-pkg
        /// writes it verbatim into <c>{name} &lt;{email}&gt;</c>, nesting the brackets (production-images
        /// has such trailers); we write the address alone, the trailer docker-pkg means.
        /// </summary>
        private static string AddressOf(string email)
        {
            var match = System.Text.RegularExpressions.Regex.Match(email, @"<([^<>]+)>\s*\z");
            return match.Success ? match.Groups[1].Value.Trim() : email;
        }

        private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value!.Trim();
    }
}
