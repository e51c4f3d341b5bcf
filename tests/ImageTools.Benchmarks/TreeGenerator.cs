using System;
using System.IO;
using System.Text;

namespace ImageTools.Benchmarks
{
    /// <summary>
    /// Writes a synthetic tree shaped like real ones: levels of images, each building on one
    /// image of the level above and copying from another, a third of them docker-pkg style
    /// (template + changelog + control), a third with image.yaml, the rest plain Dockerfiles.
    /// </summary>
    internal static class TreeGenerator
    {
        public static void Write(string root, int imageCount, int depth, string registry = "127.0.0.1:5000", string ns = "bench", string seed = "busybox:1.36")
        {
            Directory.CreateDirectory(root);
            File.WriteAllText(Path.Combine(root, "imagetools.yaml"),
                // No base_images: the build benchmarks run offline, and a listed base is refreshed from its registry (Docker Hub for busybox) once per run.
                $"registry: {registry}\nnamespace: {ns}\nbuild_args:\n  SEED: {seed}\n");
            var perLevel = Math.Max(1, imageCount / depth);
            for (var i = 0; i < imageCount; i++)
            {
                var level = Math.Min(i / perLevel, depth - 1);
                var name = $"img-{level}-{i:D5}";
                var directory = Path.Combine(root, $"level{level}", name);
                Directory.CreateDirectory(directory);
                var parent = level == 0 ? null : $"img-{level - 1}-{(level - 1) * perLevel + i % perLevel:D5}";
                var sibling = level == 0 ? null : $"img-{level - 1}-{(level - 1) * perLevel + (i * 7 + 3) % perLevel:D5}";
                switch (i % 3)
                {
                    case 0:
                        File.WriteAllText(Path.Combine(directory, "Dockerfile.template"), Dockerfile(
                            parent == null ? "{{ SEED_IMAGE }}" : $"{{{{ \"{parent}\" | image_tag }}}}", sibling, templated: true));
                        File.WriteAllText(Path.Combine(directory, "changelog"),
                            $"{name} (1.{i}.0-1) bench; urgency=medium\n\n  * Generated.\n\n -- Bench <bench@example.org>  Sun, 22 Nov 2026 10:00:00 +0000\n");
                        File.WriteAllText(Path.Combine(directory, "control"),
                            $"Package: {name}\nDescription: generated\n" + (sibling == null ? "" : $"Depends: {sibling}\n"));
                        break;
                    case 1:
                        File.WriteAllText(Path.Combine(directory, "Dockerfile"), Dockerfile(parent ?? "${SEED}", sibling, templated: false));
                        File.WriteAllText(Path.Combine(directory, "image.yaml"),
                            $"version: '2.{i}'\ntags: [stable]\nbuild_args:\n  FLAVOUR: x{i}\nlabels:\n  team: bench\n");
                        break;
                    default:
                        File.WriteAllText(Path.Combine(directory, "Dockerfile"), Dockerfile(parent ?? "${SEED}", sibling, templated: false));
                        break;
                }
                File.WriteAllText(Path.Combine(directory, "app.txt"), name);
            }
            // docker-pkg templates read seed_image-like keys from the config.
            File.AppendAllText(Path.Combine(root, "imagetools.yaml"), $"SEED_IMAGE: {seed}\n");
        }

        private static string Dockerfile(string from, string? copyFrom, bool templated)
        {
            var text = new StringBuilder();
            if (!templated) text.Append("ARG SEED=unset\n");
            text.Append("FROM ").Append(from).Append(" AS build\n");
            text.Append("RUN echo building \\\n    && echo done\n");
            text.Append("FROM build\n");
            if (copyFrom != null) text.Append("COPY --from=").Append(copyFrom).Append(" /etc/hostname /copied\n");
            text.Append("COPY app.txt /app.txt\n");
            text.Append("LABEL org.example.generated=true\n");
            return text.ToString();
        }
    }
}
