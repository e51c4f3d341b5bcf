using System.Linq;
using System.Threading;
using ImageTools.Processes;
using Xunit;

namespace ImageTools.Tests.Engine
{
    // Runs child processes (sh, sleep trees) and times them.
    [Trait(TestCategory.Name, TestCategory.Integration)]
    public class ProcessRunnerTests
    {
        [Theory]
        [InlineData("plain", "plain")]
        [InlineData("", "\"\"")]
        [InlineData("with space", "\"with space\"")]
        [InlineData("say \"hi\"", "\"say \\\"hi\\\"\"")]
        [InlineData("C:\\path with space\\", "\"C:\\path with space\\\\\"")]
        [InlineData("a\\\\\"b", "\"a\\\\\\\\\\\"b\"")]
        [InlineData("no\\escape", "no\\escape")]
        public void Quotes_by_the_Windows_rules(string argument, string expected) =>
            Assert.Equal(expected, ProcessRunner.Quote(argument));

        [Fact]
        public async System.Threading.Tasks.Task Arguments_reach_the_program_unchanged_without_a_shell()
        {
            var arguments = new[] { "plain", "with space", "say \"hi\"", "", "trailing\\", "$HOME", "a;b|c&d", "'single'" };

            var outcome = await ProcessRunner.RunAsync("printf", new[] { "[%s]\\n" }.Concat(arguments), CancellationToken.None);

            Assert.Equal(0, outcome.ExitCode);
            Assert.Equal(arguments.Select(a => $"[{a}]"), outcome.StandardOutput.TrimEnd('\n').Split('\n'));
        }

        [Fact]
        public async System.Threading.Tasks.Task A_missing_program_is_a_clear_error()
        {
            var error = await Assert.ThrowsAsync<ImageToolsException>(() =>
                ProcessRunner.RunAsync("imagetools-no-such-program", new string[0], CancellationToken.None));

            Assert.Equal("ProgramNotFound", error.ErrorId);
        }
    }
}
