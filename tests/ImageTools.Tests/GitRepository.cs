using System;
using System.Diagnostics;
using System.IO;

namespace ImageTools.Tests
{
    /// <summary>A throw-away git repository on disk, served to git contexts as a file:// URL.</summary>
    public sealed class GitRepository : IDisposable
    {
        public GitRepository()
        {
            Parent = Path.Combine(Path.GetTempPath(), "imagetools-git-" + Guid.NewGuid().ToString("N"));
            Path_ = Path.Combine(Parent, "repo.git");
            Directory.CreateDirectory(Path_);
            Git("init", "-q", "-b", "main");
        }

        public string Parent { get; }
        private string Path_ { get; }
        public string WorkTree => Path_;
        /// <summary>file:///…/repo.git</summary>
        public string Url => new Uri(Path_).AbsoluteUri;

        public GitRepository Write(string relativePath, string content)
        {
            var path = Path.Combine(Path_, relativePath.Replace('/', Path.DirectorySeparatorChar));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, content.Replace("\r\n", "\n"));
            return this;
        }

        /// <summary>Commits everything written; returns the commit id.</summary>
        public string Commit(string message = "change")
        {
            Git("add", "-A");
            Git("-c", "user.name=Test", "-c", "user.email=test@example.org", "commit", "-q", "--allow-empty", "-m", message);
            return Git("rev-parse", "HEAD").Trim();
        }

        public string Git(params string[] arguments)
        {
            var start = new ProcessStartInfo("git") { WorkingDirectory = Path_, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in arguments) start.ArgumentList.Add(argument);
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEnd();
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0) throw new InvalidOperationException($"git {string.Join(" ", arguments)}: {error}");
            return output;
        }

        public void Dispose()
        {
            try { Directory.Delete(Parent, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }
}
