using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using ImageTools.Building;
using ImageTools.Definitions;
using ImageTools.Graph;
using ImageTools.Provenance;
using Xunit;

namespace ImageTools.Tests.Integration
{
    /// <summary>
    /// The classic builder makes a step (a container and a commit) of every instruction and every
    /// --label flag. A build may add at most one step of its own to the Dockerfile's: the LABEL that
    /// carries the provenance labels.
    /// </summary>
    [Collection(DockerCollection.Name)]
    public class ClassicBuildStepTests
    {
        private static readonly Regex StepLine = new Regex(@"^Step (\d+)/(\d+) : (\S+)", RegexOptions.Multiline);

        private static BuildResult BuildOnly(string root, string name)
        {
            DockerServices.Require();
            var graph = ImageGraph.Build(TreeScanner.Scan(root));
            var results = new ImageBuilder(DockerServices.Engine(), new BuildOptions { ThrottleLimit = 1, NoCache = true })
                .BuildAsync(graph, graph.Nodes, CancellationToken.None).GetAwaiter().GetResult();
            var result = results.Single(r => r.Name == name);
            Assert.True(result.Status == BuildStatus.Built, $"{result.Status}: {result.Error}");
            return result;
        }

        private static MatchCollection Steps(BuildResult result) => StepLine.Matches(File.ReadAllText(result.LogPath!));

        [DockerFact]
        [Trait(TestCategory.Name, TestCategory.Integration)]
        public void A_build_adds_one_step_to_the_Dockerfiles_own_and_the_labels_are_on_the_image()
        {
            var s = Guid.NewGuid().ToString("N").Substring(0, 8);
            // Five instructions in two stages, with a value that needs quoting among the labels.
            using var tree = new TestTree()
                .Image("app", "FROM busybox:1.36 AS build\nRUN echo built > /out\nFROM busybox:1.36\nCOPY --from=build /out /out\nRUN cat /out")
                .Write("app/image.yaml", $"name: steps{s}\nversion: 1.0.0\nlabels:\n  org.example.note: 'say \"hi\" to $HOME \\ now'\n");

            var result = BuildOnly(tree.Root, $"steps{s}");

            var steps = Steps(result);
            Assert.Equal(6, steps.Count);
            Assert.All(steps.Cast<Match>(), m => Assert.Equal("6", m.Groups[2].Value));
            Assert.Equal("LABEL", steps[5].Groups[3].Value);
            var labels = DockerServices.Engine().InspectAsync(result.ImageId!, CancellationToken.None).GetAwaiter().GetResult()!.Labels;
            Assert.Equal($"steps{s}", labels[ImageLabels.Name]);
            Assert.Equal("1.0.0", labels[ImageLabels.Version]);
            Assert.Equal("busybox:1.36", labels[ImageLabels.BaseName]);
            Assert.StartsWith("sha256:", labels[ImageLabels.BaseDigest]);
            Assert.StartsWith("sha256:", labels[ImageLabels.InputsDigest]);
            Assert.Equal("say \"hi\" to $HOME \\ now", labels["org.example.note"]);
        }

        [DockerFact]
        [Trait(TestCategory.Name, TestCategory.Integration)]
        public void A_target_stage_in_the_middle_gets_the_labels_and_later_stages_are_not_built()
        {
            var s = Guid.NewGuid().ToString("N").Substring(0, 8);
            using var tree = new TestTree()
                .Image("app", "FROM busybox:1.36 AS tools\nRUN echo tools > /tools\n\nFROM busybox:1.36 AS final\nRUN false\n")
                .Write("app/image.yaml", $"name: target{s}\ntarget: tools\n");

            var result = BuildOnly(tree.Root, $"target{s}");

            // The classic builder counts the steps up to the target: FROM, RUN and the one LABEL.
            var steps = Steps(result);
            Assert.Equal(new[] { "FROM", "RUN", "LABEL" }, steps.Cast<Match>().Select(m => m.Groups[3].Value));
            var labels = DockerServices.Engine().InspectAsync(result.ImageId!, CancellationToken.None).GetAwaiter().GetResult()!.Labels;
            Assert.Equal($"target{s}", labels[ImageLabels.Name]);
            Assert.Equal("tools", DockerServices.Docker("run", "--rm", "--pull", "never", "--network", "none", result.ImageId!, "cat", "/tools").Trim());
        }
    }
}
