using System;
using Xunit;

namespace ImageTools.Tests.Fakes
{
    /// <summary>A test of something only a Unix-like system has (a #!/bin/sh script run directly, the exec bit): skipped on Windows, with the reason.</summary>
    public sealed class UnixFactAttribute : FactAttribute
    {
        public UnixFactAttribute()
        {
            if (OperatingSystem.IsWindows()) Skip = UnixOnly.Reason;
        }
    }

    /// <summary>The theory form of <see cref="UnixFactAttribute"/>.</summary>
    public sealed class UnixTheoryAttribute : TheoryAttribute
    {
        public UnixTheoryAttribute()
        {
            if (OperatingSystem.IsWindows()) Skip = UnixOnly.Reason;
        }
    }

    internal static class UnixOnly
    {
        public const string Reason = "Needs a Unix-like system (a #!/bin/sh script run directly, or the exec bit); Windows has neither.";
    }
}
