using System.IO;
using System.Management.Automation;
using ImageTools.Definitions;
using ImageTools.Registry;

namespace ImageTools.Commands
{
    /// <summary>The one place a cmdlet's -Credential and the tree's settings become registry client options.</summary>
    internal static class RegistryOptions
    {
        /// <summary>What -TimeoutSec defaults to: how long one attempt of one registry request may take, body included.</summary>
        public const int DefaultTimeoutSec = 60;

        public static RegistryClientOptions For(TreeConfig config, PSCredential? credential, RetryPolicy? retry = null, int timeoutSec = DefaultTimeoutSec) => new RegistryClientOptions
        {
            Retry = retry ?? RetryPolicy.Default,
            RequestTimeout = System.TimeSpan.FromSeconds(timeoutSec),
            // The secret goes from the PSCredential straight to the client; it is never written anywhere.
            Credentials = credential == null ? null
                : Credentials(credential),
            InsecureRegistries = config.InsecureRegistries,
            CaBundlePath = config.CaBundle,
            ConfigCacheDirectory = Path.Combine(Path.GetDirectoryName(Planning.FileHashCache.DefaultPath())!, "configs"),
        };

        /// <summary>-Credential as the one credential source of the registry client and the engine's push and pull.</summary>
        public static IRegistryCredentialSource Credentials(PSCredential credential) =>
            new ExplicitCredentialSource(credential.UserName, credential.GetNetworkCredential().Password);
    }
}

namespace ImageTools.Commands
{
    /// <summary>
    /// The registry client's events for -Verbose: retries (with their wait), warnings, mounts, uploads and where
    /// credentials come from; not every request. Worker threads only queue them; <see cref="Wait{T}"/> writes
    /// them from the cmdlet's thread while the work runs.
    /// </summary>
    internal sealed class RegistryVerbose : System.IProgress<RegistryEvent>
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _lines = new System.Collections.Concurrent.ConcurrentQueue<string>();

        public void Report(RegistryEvent value)
        {
            if (value.Kind == RegistryEventKind.Request || value.Kind == RegistryEventKind.CacheHit) return;
            _lines.Enqueue(value.ToString());
        }

        /// <summary>Waits for <paramref name="task"/>, writing the queued lines with <paramref name="write"/> as they come.</summary>
        public T Wait<T>(System.Threading.Tasks.Task<T> task, System.Action<string> write)
        {
            while (!((System.IAsyncResult)task).AsyncWaitHandle.WaitOne(100)) Drain(write);
            Drain(write);
            return task.GetAwaiter().GetResult();
        }

        public void Drain(System.Action<string> write)
        {
            while (_lines.TryDequeue(out var line)) write(line);
        }
    }
}
