using System;
using Xunit;

namespace ImageTools.Tests.Fakes
{
    /// <summary>A test that runs a shell script (test.sh) directly, which only a Unix-like system can.</summary>
    public sealed class UnixFactAttribute : FactAttribute
    {
        public UnixFactAttribute()
        {
            if (OperatingSystem.IsWindows()) Skip = "Runs a #!/bin/sh test.sh directly, which Windows cannot.";
        }
    }
}
