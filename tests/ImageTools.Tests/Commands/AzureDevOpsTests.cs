using ImageTools.Commands;
using Xunit;

namespace ImageTools.Tests.Commands
{
    public class AzureDevOpsTests
    {
        [Fact]
        public void Formats_an_error_with_file_line_and_code()
        {
            Assert.Equal("##vso[task.logissue type=error;sourcepath=/t/a;b].yaml;linenumber=3;code=InvalidYaml]bad",
                AzureDevOps.LogIssue(true, "bad", "/t/a;b].yaml", 3, "InvalidYaml")
                    .Replace("%3B", ";").Replace("%5D", "]"));
            Assert.Equal("##vso[task.logissue type=error;sourcepath=/t/a%3Bb%5D.yaml;linenumber=3;code=InvalidYaml]bad",
                AzureDevOps.LogIssue(true, "bad", "/t/a;b].yaml", 3, "InvalidYaml"));
        }

        [Fact]
        public void Escapes_what_would_end_or_fake_a_command()
        {
            Assert.Equal("##vso[task.logissue type=warning]100%AZP25 done%0D%0A##vso[task.complete]",
                AzureDevOps.LogIssue(false, "100% done\r\n##vso[task.complete]"));
        }

        [Fact]
        public void Knows_when_it_runs_in_a_pipeline()
        {
            Assert.True(AzureDevOps.IsPipeline(name => name == "TF_BUILD" ? "True" : null));
            Assert.False(AzureDevOps.IsPipeline(_ => null));
        }

        [Fact]
        public void An_Azure_output_variable_is_escaped_as_the_agent_reads_it() =>
            Assert.Equal("##vso[task.setvariable variable=wave0;isOutput=true]{\"a\":1}%0A100%AZP25",
                AzureDevOps.SetOutputVariable("wave0", "{\"a\":1}\n100%"));
    }
}
