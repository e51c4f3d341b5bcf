using System.Linq;
using System.Xml.Linq;
using ImageTools.Commands;
using ImageTools.HelpGenerator;
using Xunit;

namespace ImageTools.Tests.Commands
{
    /// <summary>Help comes from the doc comments; a public parameter without one fails here.</summary>
    public class HelpTests
    {
        private static readonly System.Collections.Generic.IReadOnlyList<CmdletHelp> Cmdlets = MamlWriter.Read(
            typeof(GetImageGraphCommand).Assembly,
            XDocument.Load(System.IO.Path.ChangeExtension(typeof(GetImageGraphCommand).Assembly.Location, ".xml")));

        [Fact]
        public void Every_cmdlet_has_a_synopsis_a_description_and_examples()
        {
            Assert.Equal(9, Cmdlets.Count);   // Copy-Image is the ninth
            Assert.All(Cmdlets, c =>
            {
                Assert.False(string.IsNullOrWhiteSpace(c.Synopsis), c.Name);
                Assert.False(string.IsNullOrWhiteSpace(c.Description), c.Name);
                Assert.True(c.Examples.Count >= 2, $"{c.Name} has {c.Examples.Count} examples");
                Assert.Contains(c.Examples, e => e.Code.Contains(c.Name));
            });
        }

        [Fact]
        public void Every_public_parameter_has_help()
        {
            var missing = Cmdlets.SelectMany(c => c.Parameters.Where(p => string.IsNullOrWhiteSpace(p.Description)).Select(p => $"{c.Name} -{p.Name}"));

            Assert.Empty(missing);
        }

        [Fact]
        public void The_MAML_lists_every_cmdlet_parameter_and_output()
        {
            var maml = MamlWriter.Write(Cmdlets);
            XNamespace command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
            XNamespace maml2004 = "http://schemas.microsoft.com/maml/2004/10";

            var commands = maml.Root!.Elements(command + "command").ToList();
            Assert.Equal(Cmdlets.Select(c => c.Name), commands.Select(c => c.Element(command + "details")!.Element(command + "name")!.Value));
            var build = commands.Single(c => c.Element(command + "details")!.Element(command + "name")!.Value == "Invoke-ImageBuild");
            var parameters = build.Element(command + "parameters")!.Elements(command + "parameter").ToList();
            Assert.Contains(parameters, p => p.Element(maml2004 + "name")!.Value == "ThrottleLimit" && p.Element(maml2004 + "description")!.Value.Contains("at once"));
            Assert.Equal("True (ByValue)", parameters.Single(p => p.Element(maml2004 + "name")!.Value == "InputObject").Attribute("pipelineInput")!.Value);
            Assert.Contains("ImageTools.Building.BuildResult", build.Element(command + "returnValues")!.Value);
            Assert.Equal(4, build.Element(command + "syntax")!.Elements().Count());  // ByNode, ByStatus, ByPath, ByPlan
        }

        [Fact]
        public void Syntax_lines_show_switches_without_a_value_and_the_ShouldProcess_switches()
        {
            XNamespace command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
            XNamespace maml2004 = "http://schemas.microsoft.com/maml/2004/10";
            var build = MamlWriter.Write(Cmdlets).Root!.Elements(command + "command")
                .Single(c => c.Element(command + "details")!.Element(command + "name")!.Value == "Invoke-ImageBuild");

            Assert.All(build.Element(command + "syntax")!.Elements(command + "syntaxItem"), item =>
            {
                var parameters = item.Elements(command + "parameter").ToDictionary(p => p.Element(maml2004 + "name")!.Value);
                Assert.Null(parameters["NoCache"].Element(command + "parameterValue"));
                Assert.NotNull(parameters["ThrottleLimit"].Element(command + "parameterValue"));
                Assert.Contains("WhatIf", parameters.Keys);
                Assert.Contains("Confirm", parameters.Keys);
            });
            var getGraph = Cmdlets.Single(c => c.Name == "Get-ImageGraph");
            Assert.DoesNotContain(getGraph.Parameters, p => p.Name == "WhatIf");
        }

        [Fact]
        public void A_default_parameter_set_without_parameters_of_its_own_still_gets_a_syntax_line_first()
        {
            XNamespace command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
            XNamespace maml2004 = "http://schemas.microsoft.com/maml/2004/10";
            var getGraph = MamlWriter.Write(Cmdlets).Root!.Elements(command + "command")
                .Single(c => c.Element(command + "details")!.Element(command + "name")!.Value == "Get-ImageGraph");

            var syntax = getGraph.Element(command + "syntax")!.Elements(command + "syntaxItem")
                .Select(item => item.Elements(command + "parameter").Select(p => p.Element(maml2004 + "name")!.Value).ToList()).ToList();
            Assert.Equal(2, syntax.Count);
            Assert.DoesNotContain("Format", syntax[0]);
            Assert.Contains("Path", syntax[0]);
            Assert.Contains("Format", syntax[1]);
        }

        [Fact]
        public void Parameters_with_a_default_show_it_in_help()
        {
            var publish = Cmdlets.Single(c => c.Name == "Publish-Image").Parameters.ToDictionary(p => p.Name);
            var graph = Cmdlets.Single(c => c.Name == "Get-ImageGraph").Parameters.ToDictionary(p => p.Name);
            var build = Cmdlets.Single(c => c.Name == "Invoke-ImageBuild").Parameters.ToDictionary(p => p.Name);

            Assert.Equal("4", publish["ThrottleLimit"].DefaultValue);
            Assert.Equal("3", publish["MaximumRetryCount"].DefaultValue);
            Assert.Equal("0.5", publish["RetryIntervalSec"].DefaultValue);
            Assert.Equal(".", graph["Path"].DefaultValue);
            // 0 means "the tree's parallelism": not a value to print.
            Assert.Equal("", build["ThrottleLimit"].DefaultValue);
            Assert.Equal("", build["NoCache"].DefaultValue);

            XNamespace command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
            XNamespace maml2004 = "http://schemas.microsoft.com/maml/2004/10";
            XNamespace dev = "http://schemas.microsoft.com/maml/dev/2004/10";
            var retry = MamlWriter.Write(Cmdlets).Root!.Elements(command + "command")
                .Single(c => c.Element(command + "details")!.Element(command + "name")!.Value == "Publish-Image")
                .Element(command + "parameters")!.Elements(command + "parameter")
                .Single(p => p.Element(maml2004 + "name")!.Value == "MaximumRetryCount");
            Assert.Equal("3", retry.Element(dev + "defaultValue")!.Value);
        }
    }
}
