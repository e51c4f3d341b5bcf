using System;
using System.IO;
using ImageTools.Processes;
using Xunit;

namespace ImageTools.Tests.Integration
{
    /// <summary>
    /// A tmpfs of a few hundred kilobytes, mounted for one test, to run out of disk space for real
    /// (ENOSPC from the kernel, as on a full build host). Needs root on Linux, as CI has.
    /// </summary>
    public sealed class TinyDisk : IDisposable
    {
        public TinyDisk(int kilobytes)
        {
            Root = Path.Combine(Path.GetTempPath(), "imagetools-tinydisk-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Root);
            var mounted = Run("mount", "-t", "tmpfs", "-o", $"size={kilobytes}k", "tmpfs", Root);
            if (mounted.ExitCode != 0)
            {
                Directory.Delete(Root);
                throw new InvalidOperationException($"Could not mount a {kilobytes} KiB tmpfs at {Root} (needs root): {mounted.StandardError.Trim()}");
            }
        }

        public string Root { get; }

        /// <summary>Why these tests cannot run here, or null. Where services are promised they always run (and fail if they cannot).</summary>
        public static string? Unavailable =>
            ServicePromise.Promised ? null
            : !OperatingSystem.IsLinux() ? "A real full disk is made with a tmpfs mount, which needs Linux."
            : Environment.UserName != "root" ? "A real full disk is made with a tmpfs mount, which needs root (as CI has)."
            : null;

        /// <summary>Takes every free byte left, so the next write fails with "No space left on device".</summary>
        public void Fill()
        {
            var chunk = new byte[4096];
            var filler = new FileStream(Path.Combine(Root, "filler"), FileMode.Create, FileAccess.Write, FileShare.None, 1);
            try
            {
                while (true) { filler.Write(chunk, 0, chunk.Length); filler.Flush(); }
            }
            catch (IOException)
            {
                // Full: keep what fitted.
            }
            try { filler.Dispose(); }
            catch (IOException) { }
        }

        public void Dispose()
        {
            Run("umount", "--lazy", Root);
            try { Directory.Delete(Root, recursive: true); }
            catch (IOException) { }
        }

        private static ProcessOutcome Run(string command, params string[] arguments) =>
            ProcessRunner.RunAsync(command, arguments, System.Threading.CancellationToken.None).GetAwaiter().GetResult();
    }

    /// <summary>A test that fills a real (tiny) disk; see <see cref="TinyDisk"/>.</summary>
    public sealed class TinyDiskFactAttribute : FactAttribute
    {
        public TinyDiskFactAttribute()
        {
            Skip = TinyDisk.Unavailable;
        }
    }
}
