using System.Linq;
using ImageTools.Building;
using ImageTools.Definitions;
using ImageTools.Graph;
using Xunit;

namespace ImageTools.Tests.Building
{
    public class BuildProgressTests
    {
        private static ImageGraph Graph(TestTree tree) => ImageGraph.Build(TreeScanner.Scan(tree.Root));

        [Fact]
        public void Parallel_images_each_get_a_line_under_the_run_which_counts_what_is_done()
        {
            using var tree = new TestTree().Image("a", "FROM busybox:1.36\n").Image("b", "FROM busybox:1.36\n");
            var graph = Graph(tree);
            var progress = new BuildProgress("Invoke-ImageBuild", new[] { "a", "b" });

            var pulling = progress.On(new BuildEvent("busybox:1.36", "Pulling busybox:1.36")).Single();
            progress.On(new BuildEvent("a", "Building a:latest (level 0)"));
            var both = progress.On(new BuildEvent("b", "Building b:latest (level 0)"));
            var done = progress.On(new BuildEvent("a", "a:latest: Built", BuildResult.UpToDate(graph.Nodes.Single(n => n.Name == "a"))));

            Assert.Equal((BuildProgress.RunId, "Pulling busybox:1.36"), (pulling.Id, pulling.Status));
            var (run, image) = (both[0], both[1]);
            Assert.Equal("0 of 2 done; building a, b", run.Status);
            Assert.Equal((-1, 0), (run.ParentId, run.Percent));
            Assert.Equal((BuildProgress.RunId, "b", "Building b:latest (level 0)", false), (image.ParentId, image.Activity, image.Status, image.Completed));
            Assert.NotEqual(image.Id, done[1].Id);
            Assert.Equal(("1 of 2 done; building b", 50), (done[0].Status, done[0].Percent));
            Assert.True(done[1].Completed);
        }

        [Fact]
        public void Completing_a_stopped_run_closes_the_lines_still_open()
        {
            var progress = new BuildProgress("Invoke-ImageBuild", new[] { "a", "b" });
            var building = progress.On(new BuildEvent("b", "Building b:latest (level 0)"))[1];

            var closing = progress.Complete();

            Assert.Equal(new[] { building.Id, BuildProgress.RunId }, closing.Select(l => l.Id));
            Assert.All(closing, l => Assert.True(l.Completed));
            Assert.Equal("0 of 2 done", closing[1].Status);
        }
    }
}
