using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Definitions;
using ImageTools.Formats;

namespace ImageTools.Planning
{
    /// <summary>
    /// One digest over everything that shapes an image: the context after .dockerignore (paths,
    /// file types, exec bits, contents), the rendered Dockerfile, build args, target and platforms,
    /// and a git context's commit.
    /// Stable across machines; line endings are not normalised because they change the image.
    /// </summary>
    internal sealed class BuildInputDigester
    {
        /// <summary>Stamped beside the digest; a new encoding gets a new scheme so old and new never compare equal by accident.</summary>
        public const string Scheme = "imagetools-inputs-v1";

        private readonly FileHashCache _cache;
        private readonly int _parallelism;

        public BuildInputDigester(FileHashCache? cache = null, int? maxParallelism = null)
        {
            _cache = cache ?? new FileHashCache(null);
            _parallelism = maxParallelism ?? Math.Max(2, Environment.ProcessorCount);
        }

        public string Compute(ImageDefinition image, IReadOnlyDictionary<string, string>? extraBuildArgs = null, CancellationToken cancellationToken = default)
        {
            var entries = BuildContext.Collect(image.ContextPath, image.DockerfilePath, cancellationToken);

            var hashes = new string[entries.Count];
            Parallel.For(0, entries.Count, new ParallelOptions { MaxDegreeOfParallelism = _parallelism, CancellationToken = cancellationToken }, i =>
            {
                var entry = entries[i];
                hashes[i] = entry.Kind == 'f' ? _cache.HashOf(new FileInfo(entry.FullPath), () => HashFile(entry.FullPath))
                    : entry.Kind == 'l' ? Sha256(Encoding.UTF8.GetBytes(entry.LinkTarget ?? "")) : "";
            });

            using var digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            void Field(string value)
            {
                var bytes = Encoding.UTF8.GetBytes(value);
                digest.AppendData(BitConverter.GetBytes(bytes.Length));
                digest.AppendData(bytes);
            }
            Field(Scheme);
            Field("context");
            Field(entries.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
            for (var i = 0; i < entries.Count; i++)
            {
                Field(entries[i].Kind + (entries[i].Executable ? "x" : "-"));
                Field(entries[i].RelativePath);
                Field(hashes[i]);
            }
            Field("dockerfile");
            Field(image.DockerfileText);
            var buildArgs = Dictionaries.Overlay(image.BuildArgs, extraBuildArgs);
            Field("args");
            Field(buildArgs.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
            foreach (var arg in buildArgs.OrderBy(a => a.Key, StringComparer.Ordinal))
            {
                Field(arg.Key);
                Field(arg.Value);
            }
            Field("target");
            Field(image.Target ?? "");
            Field("platforms");
            Field(string.Join(",", image.Platforms.OrderBy(p => p, StringComparer.Ordinal)));
            // A git context's commit and directory: a new commit on the ref is a new input even where the files
            // hash the same (docker_build rebuilds on a new commit too). Not the URL: a mirror of the same commit
            // is the same input. Only for git contexts, so other digests stay what they were under this scheme.
            if (image.GitContext != null)
            {
                Field("git");
                Field(image.GitContext.Commit);
                Field(image.GitContext.Url.Directory ?? "");
            }
            // Labels from image.yaml and imagetools.yaml go into the image; the latter is outside the context.
            // Only when there are any, so digests of images without labels stay what they were under this scheme.
            if (image.Labels.Count > 0)
            {
                Field("labels");
                Field(image.Labels.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
                foreach (var label in image.Labels.OrderBy(l => l.Key, StringComparer.Ordinal))
                {
                    Field(label.Key);
                    Field(label.Value);
                }
            }
            return "sha256:" + Hex(digest.GetHashAndReset());
        }

        public void SaveCache() => _cache.Save();

        private static string HashFile(string path)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 81920, FileOptions.SequentialScan);
            using var sha = SHA256.Create();
            return Hex(sha.ComputeHash(stream));
        }

        private static string Sha256(byte[] bytes)
        {
            using var sha = SHA256.Create();
            return Hex(sha.ComputeHash(bytes));
        }

        private static string Hex(byte[] bytes)
        {
            var text = new StringBuilder(bytes.Length * 2);
            foreach (var b in bytes) text.Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            return text.ToString();
        }
    }
}
