using System.Linq;
using ImageTools.Definitions.Control;
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
                " with a blank one\n" +
                "Build-Depends: builder (>= 1.0), tools:any [amd64] <!nocheck>,\n" +
                "  python3-dev | python-dev,\n" +
                "Depends: base,\n" +
                "\n" +
                "Package: second\n" +
                "depends: runtime\n", "/t/app/control");

            Assert.Equal(2, control.Paragraphs.Count);
            Assert.Equal("An app\nspanning lines\n\nwith a blank one", control.Paragraphs[0]["description"]);
            Assert.Equal(new[] { "builder", "tools", "python3-dev", "base", "runtime" }, control.Dependencies.Select(d => d.Name));
            Assert.Equal(">= 1.0", control.Dependencies[0].VersionConstraint);
            Assert.Equal(new[] { 7, 7, 7, 9, 12 }, control.Dependencies.Select(d => d.Line));
            Assert.Equal("Depends", control.Dependencies[3].Field);
        }

        [Fact]
        public void An_empty_Depends_adds_nothing()
        {
            Assert.Empty(ControlFile.Parse("Package: a\nDepends:\n", "c").Dependencies);
        }

        [Theory]
        [InlineData(" starts indented\n", 1, "continuation")]
        [InlineData("Package: a\nno colon here\n", 2, "Field: value")]
        [InlineData("Package: a\nPackage: b\n", 2, "twice")]
        [InlineData("Package: a\nDepends: Base Image\n", 2, "Depends")]
        public void Malformed_control_files_name_the_line(string text, int line, string expected)
        {
            var error = Assert.Throws<ImageToolsException>(() => ControlFile.Parse(text, "/t/a/control"));

            Assert.Equal("InvalidControlFile", error.ErrorId);
            Assert.Equal(line, error.Line);
            Assert.Contains(expected, error.Message);
        }
    }
}
