using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using ImageTools.Definitions;
using ImageTools.Graph;
using Xunit;

namespace ImageTools.Tests.Integration
{
    /// <summary>
    /// The bundled examples/ tree builds offline on the test engine in the graph's order, every
    /// verification passes, and a child really contains what its parent built.
    /// </summary>
    [Collection(DockerCollection.Name)]
    public class ExamplesBuildTests
    {
        [DockerFact]
        public void The_examples_build_in_graph_order_and_pass_verification()
        {
            var graph = ImageGraph.Build(TreeScanner.Scan(RepoPaths.Of("examples")));
            Assert.True(graph.Nodes.Count >= 6, "the examples should hold at least six images");
            Assert.Equal(2, graph.Nodes.Max(n => n.Level));

            var scratch = Directory.CreateTempSubdirectory("imagetools-examples-");
            try
            {
                foreach (var node in graph.Nodes)
                {
                    Build(node, scratch.FullName);
                    Verify(node);
                }
                // tools is built on base, app-web copies from a stage built on tools: the marker travels down.
                var fromParent = DockerServices.Docker("run", "--rm", "--network", "none", graph["app-web"].Reference,
                    "cat", "/etc/imagetools/base", "/etc/imagetools/runtime");
                Assert.Contains("base:0.1.0", fromParent);
                Assert.Contains("hi from runtime", fromParent);
            }
            finally
            {
                scratch.Delete(recursive: true);
            }
        }

        /// <summary>A stand-in for Invoke-ImageBuild until it exists: the rendered Dockerfile, build args, both tags.</summary>
        private static void Build(ImageNode node, string scratch)
        {
            var dockerfile = Path.Combine(scratch, node.Name + ".Dockerfile");
            File.WriteAllText(dockerfile, node.Definition.DockerfileText);
            var arguments = new List<string> { "build", "--quiet", "--file", dockerfile, "--tag", node.Reference, "--tag", node.Name + ":latest" };
            foreach (var arg in node.Definition.BuildArgs) arguments.AddRange(new[] { "--build-arg", $"{arg.Key}={arg.Value}" });
            arguments.Add(node.Definition.ContextPath);
            DockerServices.Run("docker", arguments, workingDirectory: null);
        }

        /// <summary>docker-pkg's verification: the image's verify command, else test.sh with the reference.</summary>
        private static void Verify(ImageNode node)
        {
            var image = node.Definition;
            if (image.VerifyCommand != null)
            {
                var args = (image.VerifyArgs ?? Array.Empty<string>())
                    .Select(a => a.Replace("{path}", image.Directory).Replace("{image}", node.Reference));
                DockerServices.Run(image.VerifyCommand, args, image.Directory);
            }
            else if (image.TestScriptPath != null)
            {
                DockerServices.Run(image.TestScriptPath, new[] { node.Reference }, image.Directory);
            }
        }
    }
}
