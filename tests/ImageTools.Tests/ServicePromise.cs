using System;

namespace ImageTools.Tests
{
    /// <summary>
    /// Whether the run promises the test services (engine, registry, tmpfs), the same rule as
    /// tests/TestSupport.ps1: CI or TF_BUILD set to anything but empty, false or 0 (any case), or
    /// IMAGETOOLS_TEST_DOCKER_HOST set. Promised and missing: the test fails loudly. Not promised
    /// and missing: it is skipped with the reason.
    /// </summary>
    public static class ServicePromise
    {
        public static bool Promised { get; } = IsPromised(Environment.GetEnvironmentVariable);

        public static bool IsPromised(Func<string, string?> environment) =>
            IsOn(environment("CI")) || IsOn(environment("TF_BUILD")) || !string.IsNullOrEmpty(environment("IMAGETOOLS_TEST_DOCKER_HOST"));

        private static bool IsOn(string? value)
        {
            var text = value?.Trim();
            return !string.IsNullOrEmpty(text) && !string.Equals(text, "false", StringComparison.OrdinalIgnoreCase) && text != "0";
        }

        /// <summary>The skip reason when services are not promised and missing; null when the test must run.</summary>
        public static string? SkipUnless(bool available, string reason) => available || Promised ? null : reason;
    }
}
