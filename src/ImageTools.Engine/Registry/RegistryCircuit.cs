using System;
using System.Collections.Concurrent;
using System.Threading;

namespace ImageTools.Registry
{
    /// <summary>
    /// The fail-fast switch of one endpoint (host:port) for the life of one registry client, which is
    /// one run: every image of a publish or a rebuild check shares it. It opens when a request to the
    /// endpoint has used up the retry policy on a connection-level failure (refused, reset, cut off,
    /// no answer within the timeout, unknown host): the endpoint is down, not refusing one request.
    /// From then on every request to it fails at once, before it is sent and without retries of its
    /// own, with an error that says so and names the first failure. Answers (429, 5xx, 4xx) never open
    /// it: a registry that answers is up. It never closes again: a rerun starts with a new client.
    /// </summary>
    internal sealed class RegistryCircuit
    {
        private readonly string _endpoint;
        private Opened? _opened;

        public RegistryCircuit(string endpoint) => _endpoint = endpoint;

        /// <summary>The failure that opened the circuit; null while it is closed.</summary>
        public ImageToolsException? FirstFailure => Volatile.Read(ref _opened)?.Error;

        /// <summary>True for the failures that say the endpoint is down, once the retry policy has given up on them.</summary>
        public static bool MeansDown(Exception error) =>
            RegistryFailure.Of(error) is RegistryFailure failure && !failure.NotAttempted &&
            (failure.Kind == RegistryFailureKind.Unreachable || failure.Kind == RegistryFailureKind.UnknownHost || failure.Kind == RegistryFailureKind.Timeout);

        /// <summary>Opens the circuit when <paramref name="error"/> means the endpoint is down; the first such failure wins.</summary>
        /// <param name="error">What the request failed with, after its retries.</param>
        /// <param name="request">What was being sent ("GET /v2/team/app/manifests/1.0"); its repository names the image.</param>
        public void Trip(Exception error, string request)
        {
            if (!(error is ImageToolsException failure) || !MeansDown(error)) return;
            Interlocked.CompareExchange(ref _opened, new Opened(failure, request), null);
        }

        /// <summary>Throws the not-attempted error when the circuit is open; <paramref name="request"/> is the request that is not sent.</summary>
        public void ThrowIfOpen(string request)
        {
            var opened = Volatile.Read(ref _opened);
            if (opened == null) return;
            var first = opened.Error;
            var kind = RegistryFailure.Of(first)!.Kind;
            throw new ImageToolsException(first.ErrorId, first.Kind,
                $"Not attempted: the registry at {_endpoint} was found down earlier in this run, {Describe(opened.While)}, so {request} was not sent " +
                $"(nothing more of this run goes there). The first failure: {first.Reason}",
                inner: new RegistryFailure(kind, cause: first, notAttempted: true));
        }

        private sealed class Opened
        {
            public Opened(ImageToolsException error, string @while)
            {
                Error = error;
                While = @while;
            }

            public ImageToolsException Error { get; }
            public string While { get; }
        }

        /// <summary>"while working on team/app (GET /v2/team/app/manifests/1.0)", or the request alone when it names no repository.</summary>
        private static string Describe(string request)
        {
            var repository = RepositoryOf(request);
            return repository != null ? $"while working on {repository} ({request})" : $"at {request}";
        }

        /// <summary>The repository of an API request ("GET /v2/team/app/blobs/sha256:..." → team/app); null for /v2/ itself.</summary>
        public static string? RepositoryOf(string request)
        {
            var start = request.IndexOf("/v2/", StringComparison.Ordinal);
            if (start < 0) return null;
            var path = request.Substring(start + 4);
            foreach (var marker in new[] { "/manifests/", "/blobs/", "/tags/" })
            {
                var at = path.IndexOf(marker, StringComparison.Ordinal);
                if (at > 0) return path.Substring(0, at);
            }
            return null;
        }
    }

    /// <summary>The circuits of one client, one per endpoint its requests go to (the registry, a token service).</summary>
    internal sealed class RegistryCircuits
    {
        private readonly ConcurrentDictionary<string, RegistryCircuit> _circuits = new ConcurrentDictionary<string, RegistryCircuit>(StringComparer.OrdinalIgnoreCase);

        public RegistryCircuit For(Uri uri) => _circuits.GetOrAdd(uri.Authority, authority => new RegistryCircuit(authority));
    }
}
