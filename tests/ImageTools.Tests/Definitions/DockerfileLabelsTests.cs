using System.Collections.Generic;
using System.Linq;
using ImageTools.Formats.Dockerfiles;
using Xunit;

namespace ImageTools.Tests.Definitions
{
    public class DockerfileLabelsTests
    {
        private static readonly Dictionary<string, string> TwoLabels = new Dictionary<string, string> { ["b.key"] = "2", ["a.key"] = "1" };

        private static string Add(string text, string? target = null, Dictionary<string, string>? labels = null)
        {
            var labeled = DockerfileLabels.AddToBuiltStage(text, target, labels ?? TwoLabels);
            Assert.Empty(labeled.Unplaced);
            return labeled.Text;
        }

        [Fact]
        public void Labels_go_as_one_instruction_after_the_last_stage()
        {
            Assert.Equal("FROM busybox:1.36 AS build\nRUN make\nFROM busybox:1.36\nCOPY --from=build /out /out\nLABEL \"a.key\"=\"1\" \"b.key\"=\"2\"\n",
                Add("FROM busybox:1.36 AS build\nRUN make\nFROM busybox:1.36\nCOPY --from=build /out /out\n"));
        }

        [Fact]
        public void A_target_stage_in_the_middle_gets_them_at_its_end_before_the_next_stage()
        {
            Assert.Equal(
                "FROM busybox:1.36 AS build\nRUN make \\\n  all\nLABEL \"a.key\"=\"1\" \"b.key\"=\"2\"\n\n# the runtime\nFROM busybox:1.36 AS runtime\nRUN true\n",
                Add("FROM busybox:1.36 AS build\nRUN make \\\n  all\n\n# the runtime\nFROM busybox:1.36 AS runtime\nRUN true\n", target: "BUILD"));
        }

        [Fact]
        public void A_target_that_is_the_last_stage_and_a_stage_of_only_FROM()
        {
            Assert.Equal("FROM busybox:1.36 AS a\nRUN true\nFROM busybox:1.36 AS b\nLABEL \"a.key\"=\"1\" \"b.key\"=\"2\"\n",
                Add("FROM busybox:1.36 AS a\nRUN true\nFROM busybox:1.36 AS b\n", target: "b"));
            Assert.Equal("FROM busybox:1.36 AS a\nLABEL \"a.key\"=\"1\" \"b.key\"=\"2\"\nFROM busybox:1.36 AS b\n",
                Add("FROM busybox:1.36 AS a\nFROM busybox:1.36 AS b\n", target: "a"));
        }

        [Fact]
        public void A_file_without_a_final_newline_gets_one_before_the_label()
        {
            Assert.Equal("FROM busybox:1.36\nRUN true\nLABEL \"a.key\"=\"1\" \"b.key\"=\"2\"\n", Add("FROM busybox:1.36\nRUN true"));
        }

        [Fact]
        public void Crlf_files_and_a_byte_order_mark_are_kept()
        {
            Assert.Equal("\uFEFFFROM busybox:1.36\r\nRUN true\r\nLABEL \"a.key\"=\"1\" \"b.key\"=\"2\"\r\n", Add("\uFEFFFROM busybox:1.36\r\nRUN true\r\n"));
        }

        [Fact]
        public void Trailing_comments_stay_below_and_do_not_swallow_the_label()
        {
            Assert.Equal("FROM busybox:1.36\nRUN true\nLABEL \"a.key\"=\"1\" \"b.key\"=\"2\"\n# done\n", Add("FROM busybox:1.36\nRUN true\n# done\n"));
        }

        [Fact]
        public void A_continuation_cut_off_by_the_end_of_the_file_is_closed_so_the_label_is_not_joined_to_it()
        {
            var text = Add("FROM busybox:1.36\nRUN echo a \\\n  && echo b \\\n# trailing comment\n");

            Assert.Equal("FROM busybox:1.36\nRUN echo a \\\n  && echo b \n# trailing comment\nLABEL \"a.key\"=\"1\" \"b.key\"=\"2\"\n", text);
            var instructions = DockerfileLines.Instructions(DockerfileLines.Split(text), '\\', "Dockerfile").Select(i => i.Keyword).ToArray();
            Assert.Equal(new[] { "FROM", "RUN", "LABEL" }, instructions);
        }

        [Fact]
        public void Heredoc_bodies_end_before_the_label()
        {
            Assert.Equal("FROM busybox:1.36\nRUN <<EOF\necho \\\nEOF\nLABEL \"a.key\"=\"1\" \"b.key\"=\"2\"\n", Add("FROM busybox:1.36\nRUN <<EOF\necho \\\nEOF\n"));
        }

        [Fact]
        public void Values_are_quoted_with_quote_dollar_and_escape_escaped()
        {
            var labels = new Dictionary<string, string> { ["k"] = "say \"hi\" to $HOME in C:\\ at 'noon' = ok" };

            Assert.EndsWith("LABEL \"k\"=\"say \\\"hi\\\" to \\$HOME in C:\\\\ at 'noon' = ok\"\n", Add("FROM busybox:1.36\n", labels: labels));
        }

        [Fact]
        public void The_escape_directive_decides_the_escape_character()
        {
            var labels = new Dictionary<string, string> { ["k"] = "a`b \"c\" C:\\ $d" };

            Assert.EndsWith("LABEL \"k\"=\"a``b `\"c`\" C:\\ `$d\"\n", Add("# escape=`\nFROM busybox:1.36\n", labels: labels));
        }

        [Fact]
        public void Values_no_Dockerfile_line_can_hold_are_left_for_label_flags()
        {
            var labels = new Dictionary<string, string> { ["multi"] = "line 1\nline 2", ["a=b"] = "x", ["plain"] = "y" };

            var labeled = DockerfileLabels.AddToBuiltStage("FROM busybox:1.36\n", null, labels);

            Assert.Equal("FROM busybox:1.36\nLABEL \"plain\"=\"y\"\n", labeled.Text);
            Assert.Equal(new[] { "a=b", "multi" }, labeled.Unplaced.Keys.OrderBy(k => k));
        }

        [Fact]
        public void An_unknown_target_leaves_the_file_alone_and_every_label_a_flag()
        {
            var labeled = DockerfileLabels.AddToBuiltStage("FROM busybox:1.36 AS a\n", "nope", TwoLabels);

            Assert.Equal("FROM busybox:1.36 AS a\n", labeled.Text);
            Assert.Equal(2, labeled.Unplaced.Count);
        }

        [Fact]
        public void No_labels_no_change()
        {
            Assert.Equal("FROM busybox:1.36", DockerfileLabels.AddToBuiltStage("FROM busybox:1.36", null, new Dictionary<string, string>()).Text);
        }
    }
}
