using System;
using System.IO;
using System.Text;

namespace ImageTools.Benchmarks
{
    /// <summary>
    /// Writes a tree that both docker-pkg and ImageTools read, for side-by-side runs: every image is a
    /// docker-pkg image (Dockerfile.template + changelog + control) with ten small files, built on
    /// busybox:1.36 (tagged and pushed to the loopback registry), levels of images each building on one image of the level above and
    /// copying from another (diamonds through COPY --from, declared in control as docker-pkg needs).
    /// The root holds docker-pkg's config.yaml, which ImageTools reads too.
    /// </summary>
    internal static class DockerPkgTreeGenerator
    {
        /// <summary>busybox:1.36 pushed to the loopback registry (peer.sh does it), so that the base check asks loopback.</summary>
        public static string SeedOf(string registry) => $"{registry}/seed/busybox:1.36";

        public static void Write(string root, int imageCount, int depth, string registry, string ns = "peer")
        {
            Directory.CreateDirectory(root);
            File.WriteAllText(Path.Combine(root, "config.yaml"),
                // The seed lives on the loopback registry: checking busybox:1.36 itself would ask Docker Hub.
                $"registry: {registry}\nnamespace: {ns}\nseed_image: {SeedOf(registry)}\n");
            var perLevel = Math.Max(1, imageCount / depth);
            for (var i = 0; i < imageCount; i++)
            {
                var level = Math.Min(i / perLevel, depth - 1);
                var name = NameOf(level, i);
                var directory = Path.Combine(root, name);
                Directory.CreateDirectory(Path.Combine(directory, "files"));
                var parent = level == 0 ? null : NameOf(level - 1, (level - 1) * perLevel + i % perLevel);
                var sibling = level == 0 ? null : NameOf(level - 1, (level - 1) * perLevel + (i * 7 + 3) % perLevel);
                if (sibling == parent) sibling = null;

                var template = new StringBuilder();
                template.Append("FROM ").Append(parent == null ? "{{ seed_image }}" : $"{{{{ \"{parent}\" | image_tag }}}}").Append('\n');
                if (sibling != null) template.Append($"COPY --from={{{{ \"{sibling}\" | image_tag }}}} /srv/{sibling}/app.txt /srv/from-{sibling}.txt\n");
                template.Append($"COPY files /srv/{name}\n");
                template.Append($"RUN echo {name} > /srv/{name}/built\n");
                File.WriteAllText(Path.Combine(directory, "Dockerfile.template"), template.ToString());
                File.WriteAllText(Path.Combine(directory, "changelog"),
                    $"{name} (0.1.{i}-1) bench; urgency=medium\n\n  * Generated for the peer benchmark.\n\n -- Bench <bench@example.org>  Sun, 22 Nov 2026 10:00:00 +0000\n");
                var depends = parent == null ? "" : "Depends: " + parent + (sibling == null ? "" : ", " + sibling) + "\n";
                File.WriteAllText(Path.Combine(directory, "control"), $"Package: {name}\nDescription: generated\n{depends}");
                File.WriteAllText(Path.Combine(directory, "files", "app.txt"), name + "\n");
                for (var f = 0; f < 9; f++)
                    File.WriteAllText(Path.Combine(directory, "files", $"data{f}.txt"), $"{name} file {f}\n");
            }
        }

        private static string NameOf(int level, int index) => $"pkg-{level}-{index:D5}";
    }
}
