using System;
using System.Collections.Generic;
using System.IO;
using ImageTools.Definitions;
using ImageTools.Planning;
using ImageTools.Tests.Fakes;
using Xunit;

namespace ImageTools.Tests.Planning
{
    public class BuildInputDigesterTests
    {
        private static TestTree Tree() => new TestTree()
            .Image("app", "FROM busybox AS runtime\nCOPY . /app\n")
            .Write("app/src/main.sh", "echo hi\n")
            .Write("app/README.md", "docs\n")
            .Write("app/.dockerignore", "*.md\n");

        private static string Digest(TestTree tree, IReadOnlyDictionary<string, string>? args = null, FileHashCache? cache = null)
        {
            var digester = new BuildInputDigester(cache);
            var digest = digester.Compute(TreeScanner.Scan(tree.Root).Find("app")!, args);
            digester.SaveCache();
            return digest;
        }

        [Fact]
        public void Is_stable_and_versioned()
        {
            using var tree = Tree();

            var first = Digest(tree);

            Assert.Matches("^sha256:[0-9a-f]{64}$", first);
            Assert.Equal(first, Digest(tree));
        }

        [Fact]
        public void Does_not_depend_on_the_order_files_were_created_in()
        {
            using var one = new TestTree().Image("app", "FROM busybox\n").Write("app/a", "1").Write("app/b", "2");
            using var two = new TestTree().Write("app/b", "2").Write("app/a", "1").Image("app", "FROM busybox\n");

            Assert.Equal(Digest(one), Digest(two));
        }

        [Theory]
        [InlineData("content")]
        [InlineData("rename")]
        [InlineData("new file")]
        [InlineData("empty directory")]
        [InlineData("dockerfile")]
        [InlineData("line endings")]
        public void Changes_with_each_input(string change)
        {
            using var tree = Tree();
            var before = Digest(tree);

            switch (change)
            {
                case "content": tree.Write("app/src/main.sh", "echo bye\n"); break;
                case "rename": File.Move(tree.PathOf("app/src/main.sh"), tree.PathOf("app/src/start.sh")); break;
                case "new file": tree.Write("app/src/extra.sh", ""); break;
                case "empty directory": Directory.CreateDirectory(tree.PathOf("app/empty")); break;
                case "dockerfile": tree.Image("app", "FROM busybox\nCOPY . /srv\n"); break;
                case "line endings": File.WriteAllText(tree.PathOf("app/src/main.sh"), "echo hi\r\n"); break;
            }

            Assert.NotEqual(before, Digest(tree));
        }

        [Fact]
        public void Changes_with_labels_from_the_tree_config_and_from_image_yaml()
        {
            using var tree = Tree();
            tree.Write("app/.dockerignore", "*.md\nimage.yaml\n");  // so only the label itself can change the digest
            var plain = Digest(tree);

            tree.Write("imagetools.yaml", "labels:\n  team: ops\n");
            var fromTree = Digest(tree);
            Assert.NotEqual(plain, fromTree);
            tree.Write("imagetools.yaml", "labels:\n  team: dev\n");
            Assert.NotEqual(fromTree, Digest(tree));
            tree.Write("app/image.yaml", "labels:\n  tier: web\n");
            var fromImage = Digest(tree);
            Assert.NotEqual(fromTree, fromImage);
            tree.Write("app/image.yaml", "labels:\n  tier: db\n");
            Assert.NotEqual(fromImage, Digest(tree));
        }

        [Fact]
        public void Changes_with_build_args_target_and_platforms()
        {
            using var tree = Tree();
            var plain = Digest(tree);

            Assert.NotEqual(plain, Digest(tree, new Dictionary<string, string> { ["X"] = "1" }));
            tree.Write("app/image.yaml", "target: runtime\n");
            var withTarget = Digest(tree);
            Assert.NotEqual(plain, withTarget);
            tree.Write("app/image.yaml", "target: runtime\nplatforms: [linux/arm64]\n");
            Assert.NotEqual(withTarget, Digest(tree));
        }

        // Windows has no exec bit for the digest to see.
        [UnixFact]
        public void Changes_with_the_exec_bit()
        {
            using var tree = Tree();
            var before = Digest(tree);

            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(tree.PathOf("app/src/main.sh"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

            Assert.NotEqual(before, Digest(tree));
        }

        [Fact]
        public void Ignores_what_dockerignore_leaves_out()
        {
            using var tree = Tree();
            var before = Digest(tree);

            tree.Write("app/README.md", "other docs\n").Write("app/CHANGES.md", "new\n");

            Assert.Equal(before, Digest(tree));
        }

        [Fact]
        public void The_cache_spares_hashing_unchanged_files_and_notices_changed_ones()
        {
            using var tree = Tree();
            var cachePath = tree.PathOf("cache/hashes");
            var old = DateTime.UtcNow.AddMinutes(-5);
            foreach (var file in Directory.GetFiles(tree.PathOf("app"), "*", SearchOption.AllDirectories)) File.SetLastWriteTimeUtc(file, old);

            var first = new FileHashCache(cachePath);
            var digest = Digest(tree, cache: first);
            Assert.Equal(1, first.HashedCount); // src/main.sh; README.md is ignored, the Dockerfile hashed as text

            var second = new FileHashCache(cachePath);
            Assert.Equal(digest, Digest(tree, cache: second));
            Assert.Equal(0, second.HashedCount);

            tree.Write("app/src/main.sh", "echo ho\n");
            File.SetLastWriteTimeUtc(tree.PathOf("app/src/main.sh"), old.AddSeconds(1));
            var third = new FileHashCache(cachePath);
            Assert.NotEqual(digest, Digest(tree, cache: third));
            Assert.Equal(1, third.HashedCount);
        }

        [Fact]
        public void A_corrupt_cache_file_is_ignored()
        {
            using var tree = Tree().Write("cache/hashes", "imagetools-file-hashes-v1\nnot\ta\tvalid\nline\n\0\0");

            var cache = new FileHashCache(tree.PathOf("cache/hashes"));

            Assert.Equal(Digest(tree), Digest(tree, cache: cache));
        }

        /// <summary>A docker-pkg template whose apt snippet renders the proxy into the Dockerfile, under a config.yaml of <paramref name="config"/>.</summary>
        private static TestTree ProxyTemplateTree(string config, string packages = "curl") => new TestTree()
            .Write("config.yaml", config)
            .Write("app/Dockerfile.template", "FROM busybox:1.36\nRUN {{ \"" + packages + "\" | apt_install }}\nRUN echo {{ http_proxy }} > /dev/null\n")
            .Write("app/changelog", "app (1.0) wikimedia; urgency=medium\n\n  * First.\n\n -- A <a@example.org>  Mon, 02 Nov 2026 10:00:00 +0000\n");

        [Theory]
        [InlineData("http_proxy: http://proxy-one.invalid:3128\n", "http_proxy: http://proxy-two.invalid:8080\n")]
        [InlineData("http_proxy: http://proxy-one.invalid:3128\n", "{}\n")]
        [InlineData("apt_only_proxy: http://apt.invalid:3142\n", "http_proxy: http://proxy-two.invalid:8080\napt_only_proxy: http://apt-two.invalid:3142\n")]
        public void A_proxy_rendered_into_a_template_is_no_input(string oneConfig, string otherConfig)
        {
            using var one = ProxyTemplateTree(oneConfig);
            using var other = ProxyTemplateTree(otherConfig);
            var oneImage = TreeScanner.Scan(one.Root).Find("app")!;

            // The build gets the real rendering; the digest reads the one without proxy.
            Assert.Contains("80_proxy", oneImage.DockerfileText);
            Assert.DoesNotContain("80_proxy", oneImage.InputsDockerfileText);
            Assert.Equal(new BuildInputDigester().Compute(oneImage),
                new BuildInputDigester().Compute(TreeScanner.Scan(other.Root).Find("app")!));
        }

        [Fact]
        public void A_template_change_beside_a_proxy_still_changes_the_digest()
        {
            using var one = ProxyTemplateTree("http_proxy: http://proxy-one.invalid:3128\n");
            using var changed = ProxyTemplateTree("http_proxy: http://proxy-one.invalid:3128\n", packages: "curl jq");

            Assert.NotEqual(new BuildInputDigester().Compute(TreeScanner.Scan(one.Root).Find("app")!),
                new BuildInputDigester().Compute(TreeScanner.Scan(changed.Root).Find("app")!));
        }

        [Fact]
        public void A_tree_without_proxy_hashes_the_dockerfile_it_builds()
        {
            using var tree = ProxyTemplateTree("{}\n");
            var image = TreeScanner.Scan(tree.Root).Find("app")!;

            Assert.Same(image.DockerfileText, image.InputsDockerfileText);
        }
    }
}
