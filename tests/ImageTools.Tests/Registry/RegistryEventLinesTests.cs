using System;
using System.Collections.Generic;
using ImageTools.Registry;
using Xunit;

namespace ImageTools.Tests.Registry
{
    public class RegistryEventLinesTests
    {
        private sealed class Lines : IProgress<string>
        {
            public List<string> All { get; } = new List<string>();
            public void Report(string value) => All.Add(value);
        }

        [Fact]
        public void Tells_retries_credentials_warnings_and_uploads_once_each_and_not_every_request()
        {
            var lines = new Lines();
            var events = new RegistryEventLines(lines);

            events.Report(new RegistryEvent(RegistryEventKind.Request, "r:5000", "GET /v2/ 200"));
            events.Report(new RegistryEvent(RegistryEventKind.CacheHit, "r:5000", "config sha256:1 from the cache"));
            events.Report(new RegistryEvent(RegistryEventKind.Warning, "r:5000", "credential helper docker-credential-gone is missing"));
            events.Report(new RegistryEvent(RegistryEventKind.Warning, "r:5000", "credential helper docker-credential-gone is missing"));
            events.Report(new RegistryEvent(RegistryEventKind.Retry, "r:5000", "attempt 1 of 4 failed", 1, TimeSpan.FromSeconds(1)));
            events.Report(new RegistryEvent(RegistryEventKind.BlobMounted, "r:5000", "mounted sha256:2 from team/base"));

            Assert.Equal(new[]
            {
                "r:5000: credential helper docker-credential-gone is missing",
                "r:5000: attempt 1 of 4 failed",
                "r:5000: mounted sha256:2 from team/base",
            }, lines.All);
        }
    }
}
