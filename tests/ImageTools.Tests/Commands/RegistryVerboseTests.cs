using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Commands;
using ImageTools.Registry;
using Xunit;

namespace ImageTools.Tests.Commands
{
    /// <summary>Publish-Image's -Verbose gets the registry client's retries, warnings and mounts, written from the cmdlet's own thread.</summary>
    public class RegistryVerboseTests
    {
        [Fact]
        public void Retries_and_mounts_reach_the_verbose_writer_on_the_waiting_thread_while_requests_do_not()
        {
            var verbose = new RegistryVerbose();
            var lines = new List<(string Line, int Thread)>();
            using var retried = new ManualResetEventSlim();
            var work = Task.Run(() =>
            {
                verbose.Report(new RegistryEvent(RegistryEventKind.Request, "127.0.0.1:5000", "GET /v2/ -> 200 (3 ms)"));
                verbose.Report(new RegistryEvent(RegistryEventKind.Retry, "127.0.0.1:5000", "PUT …: 429 TooManyRequests; attempt 1 of 4 failed, trying again in 1.0 s", 1, TimeSpan.FromSeconds(1)));
                // The line is written while the work still runs, not only at its end.
                retried.Wait(TimeSpan.FromSeconds(10));
                verbose.Report(new RegistryEvent(RegistryEventKind.BlobMounted, "127.0.0.1:5000", "mounted sha256:ab into app from base (not uploaded)"));
                return 42;
            });

            var result = verbose.Wait(work, line =>
            {
                lines.Add((line, Environment.CurrentManagedThreadId));
                if (line.Contains("429")) retried.Set();
            });

            Assert.Equal(42, result);
            Assert.Equal(2, lines.Count);
            Assert.Contains("429 TooManyRequests; attempt 1 of 4 failed, trying again in 1.0 s", lines[0].Line);
            Assert.StartsWith("127.0.0.1:5000: mounted", lines[1].Line);
            Assert.All(lines, l => Assert.Equal(Environment.CurrentManagedThreadId, l.Thread));
        }
    }
}
