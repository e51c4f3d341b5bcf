using System;

namespace ImageTools.Registry
{
    internal enum RegistryEventKind
    {
        /// <summary>A request got an answer (method, URL without secrets, status, time).</summary>
        Request,
        /// <summary>A transient failure; the request is tried again after <see cref="RegistryEvent.Delay"/>.</summary>
        Retry,
        /// <summary>A bearer token was requested from the registry's token service.</summary>
        Token,
        /// <summary>Where the credentials for a registry come from (never the credentials themselves).</summary>
        Credentials,
        /// <summary>An answer was served from the on-disk cache.</summary>
        CacheHit,
        /// <summary>Something worked around that the user may want to fix.</summary>
        Warning,
        /// <summary>A blob was uploaded to a repository (its bytes were sent).</summary>
        BlobUploaded,
        /// <summary>A blob was mounted from another repository of the registry instead of uploaded.</summary>
        BlobMounted,
    }

    /// <summary>
    /// What the registry client did, for -Verbose. Messages never hold a password, token or
    /// Authorization header: they are built from URLs, status codes and user names only.
    /// </summary>
    internal sealed class RegistryEvent
    {
        public RegistryEvent(RegistryEventKind kind, string registry, string message, int? attempt = null, TimeSpan? delay = null)
        {
            Kind = kind;
            Registry = registry;
            Message = message;
            Attempt = attempt;
            Delay = delay;
        }

        public RegistryEventKind Kind { get; }
        public string Registry { get; }
        public string Message { get; }
        /// <summary>For retries: the attempt that failed (1-based).</summary>
        public int? Attempt { get; }
        /// <summary>For retries: how long the client waits before the next attempt.</summary>
        public TimeSpan? Delay { get; }

        public override string ToString() => $"{Registry}: {Message}";

        /// <summary>
        /// What a user must hear of in -Verbose: where credentials came from, retries, work-arounds (a missing
        /// credential helper, plain HTTP), tokens, and what each upload sent or mounted. Not every request or cache hit.
        /// </summary>
        public bool IsWorthTelling => Kind != RegistryEventKind.Request && Kind != RegistryEventKind.CacheHit;
    }

    /// <summary>Registry events as lines for a cmdlet's verbose stream: those worth telling, each distinct line once per run.</summary>
    internal sealed class RegistryEventLines : IProgress<RegistryEvent>
    {
        private readonly IProgress<string> _lines;
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _told =
            new System.Collections.Concurrent.ConcurrentDictionary<string, bool>(StringComparer.Ordinal);

        public RegistryEventLines(IProgress<string> lines) => _lines = lines;

        public void Report(RegistryEvent value)
        {
            if (!value.IsWorthTelling) return;
            var line = value.ToString();
            if (_told.TryAdd(line, true)) _lines.Report(line);
        }
    }
}
