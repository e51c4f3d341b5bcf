using System.Linq;
using ImageTools.Formats.Control;
using Xunit;

namespace ImageTools.Tests.Definitions
{
    public class ControlFileTests
    {
        [Fact]
        public void Reads_Depends_and_Build_Depends_of_every_paragraph()
        {
            var control = ControlFile.Parse(
                "# a comment\n" +
                "Package: app\n" +
                "Description: An app\n" +
                " spanning lines\n" +
                " .\n" +
                "   indented verbatim\n" +
                "Build-Depends: builder (>= 1.0), tools:any [amd64] <!nocheck>,\n" +
                "  python3-dev | python-dev,\n" +
                "Depends: base,\n" +
                "\n" +
                "\n" +
                "Package: second\n" +
                "depends: runtime\n", "/t/app/control");

            Assert.Equal(2, control.Paragraphs.Count);
            Assert.Equal("app", control.Paragraphs[0]["PACKAGE"]);
            Assert.Equal("An app\nspanning lines\n\n  indented verbatim", control.Paragraphs[0]["description"]);
            Assert.Equal(new[] { "builder", "tools", "python3-dev", "base", "runtime" }, control.Dependencies.Select(d => d.Name));
            Assert.Equal(new[] { ">= 1.0", null, null, null, null }, control.Dependencies.Select(d => d.VersionConstraint));
            Assert.Equal(new[] { 7, 7, 8, 9, 13 }, control.Dependencies.Select(d => d.Line));
            Assert.Equal(new[] { "Build-Depends", "Build-Depends", "Build-Depends", "Depends", "Depends" }, control.Dependencies.Select(d => d.Field));
            Assert.Equal(new[] { "python3-dev", "python-dev" }, control.Dependencies[2].Alternatives);
            Assert.Equal(new[] { "base" }, control.Dependencies[3].Alternatives);
        }

        [Fact]
        public void Reads_docker_pkg_control_files()
        {
            // As in docker-pkg's tests/fixtures.
            var control = ControlFile.Parse("Package: foobar-server\nDescription: A foobar server\nDepends: foo-bar\n", "c");

            Assert.Equal("foo-bar", control.Dependencies.Single().Name);
            Assert.Equal(3, control.Dependencies.Single().Line);
            Assert.Empty(ControlFile.Parse("Package: foo-bar\nDescription: Base container\n\n", "c").Dependencies);
        }

        [Fact]
        public void Gives_each_relation_of_a_folded_field_its_own_line()
        {
            var control = ControlFile.Parse(
                "Package: a\r\n" +
                "Depends:\r\n" +
                " base,\r\n" +
                "# a comment inside the field\r\n" +
                " runtime (<< 2:1.0~rc1-1),\r\n" +
                "\ttools (= 1.2), extra\r\n", "c");

            Assert.Equal(new[] { ("base", 3), ("runtime", 5), ("tools", 6), ("extra", 6) }, control.Dependencies.Select(d => (d.Name, d.Line)));
            Assert.Equal("<< 2:1.0~rc1-1", control.Dependencies[1].VersionConstraint);
            Assert.Equal("= 1.2", control.Dependencies[2].VersionConstraint);
        }

        [Theory]
        [InlineData("a", "a", null)]
        [InlineData("a (>= 1.0)", "a", ">= 1.0")]
        [InlineData("a(>=1.0)", "a", ">= 1.0")]
        [InlineData("a ( >>  1.0-1 )", "a", ">> 1.0-1")]
        [InlineData("a (<= 1.0)", "a", "<= 1.0")]
        [InlineData("a:any", "a", null)]
        [InlineData("a:amd64 (= 1.0)", "a", "= 1.0")]
        [InlineData("a [amd64 !i386]", "a", null)]
        [InlineData("a [linux-any] <!nocheck> <stage1 cross>", "a", null)]
        [InlineData("a (>= 1) [amd64] <!nocheck>", "a", ">= 1")]
        [InlineData("team/base-image_v2", "team/base-image_v2", null)]
        [InlineData("lib+plus.x", "lib+plus.x", null)]
        [InlineData("a (>= 1) | b (>= 2)", "a", ">= 1")]
        public void Reads_relation_syntax(string relation, string name, string? constraint)
        {
            var dependency = ControlFile.Parse("Package: x\nBuild-Depends: " + relation + "\n", "c").Dependencies.Single();

            Assert.Equal((name, constraint), (dependency.Name, dependency.VersionConstraint));
        }

        [Theory]
        [InlineData("Package: a\nDepends:\n")]
        [InlineData("Package: a\nDepends:   \n")]
        [InlineData("Package: a\nDepends: ,\n")]
        [InlineData("Package: a\nBuild-Depends:\n ,\n")]
        public void An_empty_Depends_adds_nothing(string text) => Assert.Empty(ControlFile.Parse(text, "c").Dependencies);

        [Fact]
        public void Trailing_and_doubled_commas_are_skipped()
        {
            var control = ControlFile.Parse("Package: a\nDepends: b,, c,\n", "c");

            Assert.Equal(new[] { "b", "c" }, control.Dependencies.Select(d => d.Name));
        }

        [Fact]
        public void Tolerates_blank_lines_of_spaces_a_byte_order_mark_and_blanks_before_the_colon()
        {
            var control = ControlFile.Parse("\uFEFF\n\nPackage: a\n  \t\nPackage : b\nDepends : c\n\n\n", "c");

            Assert.Equal(new[] { "a", "b" }, control.Paragraphs.Select(p => p["Package"]));
            Assert.Equal("c", control.Dependencies.Single().Name);
        }

        [Fact]
        public void An_empty_file_has_no_paragraphs()
        {
            Assert.Empty(ControlFile.Parse("", "c").Paragraphs);
            Assert.Empty(ControlFile.Parse("# only comments\n\n", "c").Paragraphs);
        }

        [Theory]
        [InlineData(" starts indented\n", 1, "no field above")]
        [InlineData("Package: a\n\n continues nothing\n", 3, "no field above")]
        [InlineData("Package: a\nno colon here\n", 2, "Field: value")]
        [InlineData("Package: a\n-Bad: x\n", 2, "not a field name")]
        [InlineData("Package: a\nTwo words: x\n", 2, "not a field name")]
        [InlineData("Package: a\nPackage: b\n", 2, "twice")]
        [InlineData("Package: a\npackage: b\n", 2, "twice")]
        [InlineData("Package: a\nDepends: Base Image\n", 2, "Separate names with commas")]
        [InlineData("Package: a\nDepends: base image\n", 2, "Separate names with commas")]
        [InlineData("Package: a\nDepends: Base\n", 2, "lower case")]
        [InlineData("Package: a\nDepends: -base\n", 2, "not an image or package name")]
        [InlineData("Package: a\nDepends: a | | b\n", 2, "empty alternative")]
        [InlineData("Package: a\nDepends: | b\n", 2, "empty alternative")]
        [InlineData("Package: a\nDepends: b (>= 1.0\n", 2, "Separate names")]
        [InlineData("Package: a\nDepends: b ()\n", 2, "operator and a version")]
        [InlineData("Package: a\nDepends: b (1.0)\n", 2, "operator and a version")]
        [InlineData("Package: a\nDepends: b (>=)\n", 2, "operator and a version")]
        [InlineData("Package: a\nDepends: b (> 1.0)\n", 2, "obsolete")]
        [InlineData("Package: a\nDepends: b (~= 1.0)\n", 2, "Separate names")]
        [InlineData("Package: a\nDepends: b (>= 1_0)\n", 2, "not a Debian version")]
        [InlineData("Package: a\nDepends: b [amd64,i386]\n", 2, "Separate names")]
        [InlineData("Package: a\nDepends: b [a_b]\n", 2, "architecture list")]
        [InlineData("Package: a\nDepends: b <Nocheck>\n", 2, "build profiles")]
        [InlineData("Package: a\nDepends:\n ok,\n Bad\n", 4, "lower case")]
        public void Malformed_control_files_name_the_line(string text, int line, string expected)
        {
            var error = Assert.Throws<ImageToolsException>(() => ControlFile.Parse(text, "/t/a/control"));

            Assert.Equal("InvalidControlFile", error.ErrorId);
            Assert.Equal(FaultKind.InvalidData, error.Kind);
            Assert.Equal("/t/a/control", error.FilePath);
            Assert.Equal(line, error.Line);
            Assert.Contains(expected, error.Message);
        }
    }
}
