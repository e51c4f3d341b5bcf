using System;
using System.IO;
using System.Linq;
using ImageTools.Definitions;
using ImageTools.Formats;
using ImageTools.Graph;
using ImageTools.Planning;
using Xunit;

namespace ImageTools.Tests.Definitions
{
    /// <summary>Git contexts: the URL forms docker build takes, and the commit ls-remote reports as an input.</summary>
    public class GitContextTests
    {
        [Theory]
        [InlineData("https://github.com/team/repo.git", "https://github.com/team/repo.git", null, null)]
        [InlineData("https://github.com/team/repo.git#main", "https://github.com/team/repo.git", "main", null)]
        [InlineData("https://github.com/team/repo.git#v1.0:images/app", "https://github.com/team/repo.git", "v1.0", "images/app")]
        [InlineData("https://github.com/team/repo.git#:images/app/", "https://github.com/team/repo.git", null, "images/app")]
        [InlineData("git@github.com:team/repo.git#refs/pull/7/head", "git@github.com:team/repo.git", "refs/pull/7/head", null)]
        [InlineData("git://example.org/repo#main:.", "git://example.org/repo", "main", null)]
        [InlineData("ssh://git@example.org/repo.git#main:a/./b", "ssh://git@example.org/repo.git", "main", "a/b")]
        [InlineData("github.com/team/repo#main", "https://github.com/team/repo", "main", null)]
        [InlineData("file:///srv/mirror/repo.git#main:app", "file:///srv/mirror/repo.git", "main", "app")]
        [InlineData("https://x/r.git#ABCDEF0123456789ABCDEF0123456789ABCDEF01", "https://x/r.git", "abcdef0123456789abcdef0123456789abcdef01", null)]
        public void Urls_split_into_remote_ref_and_directory_as_docker_build_splits_them(string text, string remote, string? reference, string? directory)
        {
            var url = GitContextUrl.Parse(text);

            Assert.Equal((remote, reference, directory), (url.Remote, url.Ref, url.Directory));
        }

        [Theory]
        [InlineData("https://github.com/team/repo.git", true)]
        [InlineData("https://github.com/team/repo.git#main:dir", true)]
        [InlineData("https://example.org/archive.tar.gz", false)]
        [InlineData("https://github.com/team/repo", false)]
        [InlineData("git@github.com:team/repo.git", true)]
        [InlineData("../shared", false)]
        [InlineData("src", false)]
        public void Only_what_docker_reads_as_a_git_url_is_one(string text, bool expected) =>
            Assert.Equal(expected, GitContextUrl.IsGitUrl(text));

        [Theory]
        [InlineData("https://github.com/team/repo.git#-upload-pack=x")]
        [InlineData("https://github.com/team/repo.git#a..b")]
        [InlineData("https://github.com/team/repo.git#main:../../etc")]
        [InlineData("https://github.com/team/repo.git#main:/abs")]
        [InlineData("https://github.com/team/repo .git")]
        public void Refs_and_directories_git_or_the_checkout_cannot_take_are_refused(string text) =>
            Assert.Throws<FormatException>(() => GitContextUrl.Parse(text));

        [Fact]
        public void Credentials_in_the_url_are_never_shown()
        {
            var url = GitContextUrl.Parse("https://builder:s3cret-token@git.example.org/team/repo.git#main:app");

            Assert.Equal("https://git.example.org/team/repo.git#main:app", url.Display);
            Assert.Equal("https://git.example.org/team/repo.git", url.DisplayRemote);
            var redacted = url.Redact("fatal: unable to access 'https://builder:s3cret-token@git.example.org/team/repo.git/': s3cret-token");
            Assert.DoesNotContain("s3cret", redacted);
            Assert.Contains("https://git.example.org/team/repo.git/", redacted);
        }

        private static (TestTree Tree, GitRepository Repository) TreeWithGitContext(string context)
        {
            var repository = new GitRepository();
            repository.Write("images/app/Dockerfile", "FROM busybox:1.36\nCOPY hello.txt /hello.txt\n").Write("images/app/hello.txt", "one\n").Commit("first");
            var tree = new TestTree().Write("app/image.yaml", "name: app\ncontext: " + context.Replace("{url}", repository.Url) + "\n");
            return (tree, repository);
        }

        [Fact]
        public void A_git_context_is_read_at_the_commit_its_ref_names_and_the_commit_is_an_input()
        {
            var (tree, repository) = TreeWithGitContext("{url}#main:images/app");
            using var _ = tree;
            using var __ = repository;
            var first = repository.Git("rev-parse", "HEAD").Trim();

            var node = ImageGraph.Build(TreeScanner.Scan(tree.Root))["app"];
            Assert.Equal(first, node.ContextCommit);
            Assert.Equal(repository.Url + "#main:images/app", node.Context);
            Assert.Equal(new[] { "busybox:1.36" }, node.BaseImages);
            Assert.True(File.Exists(Path.Combine(node.Definition.ContextPath, "hello.txt")));
            Assert.False(Directory.Exists(Path.Combine(node.Definition.GitContext!.CheckoutPath, ".git")));
            var digester = new BuildInputDigester();
            var digest = digester.Compute(node.Definition);

            // A no-op rescan: the same commit, the same checkout (not cloned again), the same digest.
            var marker = Path.Combine(node.Definition.GitContext.CheckoutPath, "not-cloned-again");
            File.WriteAllText(marker, "");
            var again = ImageGraph.Build(TreeScanner.Scan(tree.Root))["app"];
            Assert.Equal(first, again.ContextCommit);
            Assert.True(File.Exists(marker));
            Assert.Equal(digest, digester.Compute(again.Definition));

            // A new commit on the ref, even one that changes no file of the context: a new input.
            var second = repository.Write("README", "elsewhere\n").Commit("second");
            var moved = ImageGraph.Build(TreeScanner.Scan(tree.Root))["app"];
            Assert.Equal(second, moved.ContextCommit);
            Assert.NotEqual(digest, digester.Compute(moved.Definition));
        }

        [Fact]
        public void Tags_are_peeled_to_their_commit_and_a_full_commit_is_its_own_ref()
        {
            var (tree, repository) = TreeWithGitContext("{url}#v1:images/app");
            using var _ = tree;
            using var __ = repository;
            var tagged = repository.Git("rev-parse", "HEAD").Trim();
            repository.Git("-c", "user.name=T", "-c", "user.email=t@e", "tag", "-a", "v1", "-m", "one");
            repository.Write("images/app/hello.txt", "two\n").Commit();

            Assert.Equal(tagged, ImageGraph.Build(TreeScanner.Scan(tree.Root))["app"].ContextCommit);

            tree.Write("app/image.yaml", $"name: app\ncontext: {repository.Url}#{tagged}:images/app\n");
            var pinned = ImageGraph.Build(TreeScanner.Scan(tree.Root))["app"];
            Assert.Equal(tagged, pinned.ContextCommit);
            Assert.Equal("one\n", File.ReadAllText(Path.Combine(pinned.Definition.ContextPath, "hello.txt")));
        }

        [Theory]
        [InlineData("{url}#nosuchbranch:images/app", "GitRefNotFound", "nosuchbranch")]
        [InlineData("{url}#main:images/missing", "GitContextDirectoryNotFound", "images/missing")]
        [InlineData("{url}#main:images", "DockerfileNotFound", "has no Dockerfile")]
        [InlineData("file:///nonexistent/imagetools/repo.git#main", "GitContextUnreachable", "cannot be read")]
        [InlineData("https://user:s3cret@127.0.0.1:9/repo.git#main", "GitContextUnreachable", "https://127.0.0.1:9/repo.git#main")]
        [InlineData("{url}#bad..ref", "GitContextInvalid", "not a git ref")]
        public void Bad_git_contexts_are_errors_naming_the_image_the_file_and_line_and_the_url_without_credentials(string context, string errorId, string expected)
        {
            var (tree, repository) = TreeWithGitContext(context);
            using var _ = tree;
            using var __ = repository;

            var error = Assert.Single(Assert.Throws<ImageTreeException>(() => TreeScanner.Scan(tree.Root)).Errors);

            Assert.Equal(errorId, error.ErrorId);
            Assert.Equal("app", error.ImageName);
            Assert.Contains(expected, error.Message);
            Assert.DoesNotContain("s3cret", error.Message);
            if (errorId != "DockerfileNotFound") Assert.Equal((tree.PathOf("app/image.yaml"), (int?)2), (error.FilePath, error.Line));
        }

        [Fact]
        public void Images_sharing_a_repository_that_fails_each_get_an_error_naming_them()
        {
            using var tree = new TestTree()
                .Write("a/image.yaml", "name: a\ncontext: file:///nonexistent/imagetools/shared.git#main:a\n")
                .Write("b/image.yaml", "name: b\ncontext: file:///nonexistent/imagetools/shared.git#main:b\n");

            var errors = Assert.Throws<ImageTreeException>(() => TreeScanner.Scan(tree.Root)).Errors;

            Assert.Equal(new[] { ("a", tree.PathOf("a/image.yaml")), ("b", tree.PathOf("b/image.yaml")) }, errors.Select(e => (e.ImageName!, e.FilePath!)).OrderBy(e => e.Item1));
            Assert.All(errors, e => Assert.Equal("GitContextUnreachable", e.ErrorId));
        }

        [Fact]
        public void Submodules_are_not_fetched_and_a_warning_says_so()
        {
            var (tree, repository) = TreeWithGitContext("{url}#main:images/app");
            using var _ = tree;
            using var __ = repository;
            repository.Write(".gitmodules", "[submodule \"lib\"]\n\tpath = lib\n\turl = https://example.org/lib.git\n").Commit();

            var warning = Assert.Single(TreeScanner.Scan(tree.Root).Warnings);

            Assert.Contains("has submodules", warning.Message);
            Assert.Equal((tree.PathOf("app/image.yaml"), (int?)2), (warning.FilePath, warning.Line));
        }

        [Fact]
        public void A_docker_images_line_with_a_git_url_for_its_directory_says_where_a_git_context_goes()
        {
            using var tree = new TestTree().Write("docker_images", "app\thttps://github.com/team/app.git#main\n");

            var error = Assert.Single(Assert.Throws<ImageTreeException>(() => TreeScanner.Scan(tree.PathOf("docker_images"))).Errors);

            Assert.Equal(("ImageListInvalid", (int?)1), (error.ErrorId, error.Line));
            Assert.Contains("context: URL", error.Message);
        }

        [Fact]
        public void Two_runs_fetching_one_commit_at_once_leave_one_whole_cache_entry_and_nothing_else()
        {
            using var repository = new GitRepository();
            var commit = repository.Write("Dockerfile", "FROM busybox:1.36\n").Commit();
            var cache = Path.Combine(repository.Parent, "cache");
            var url = GitContextUrl.Parse(repository.Url + "#main");

            var contexts = new[] { 0, 1, 2, 3 }.AsParallel().WithDegreeOfParallelism(4)
                .Select(_ => new GitContextResolver(cache).Resolve(url, "app", null, null, default)).ToList();

            Assert.All(contexts, c => Assert.Equal(commit, c.Commit));
            var entry = Assert.Single(Directory.GetDirectories(cache));
            Assert.Equal(contexts[0].CheckoutPath, entry);
            Assert.True(File.Exists(Path.Combine(entry, "Dockerfile")));
            Assert.Empty(Directory.GetFileSystemEntries(cache, ".tmp-*"));
        }

        [Fact]
        public void Tab_completion_reads_names_without_asking_the_remote()
        {
            using var tree = new TestTree().Write("app/image.yaml", "name: app\ncontext: https://user:x@127.0.0.1:9/repo.git#main\n");

            Assert.Equal(new[] { "app" }, TreeScanner.ListNames(tree.Root));
        }
    }
}
