using Xunit;

namespace ImageTools.Tests.Definitions
{
    /// <summary>Every template error names the file, the line of the offending tag, and what to do.</summary>
    public class TemplateErrorTests
    {
        [Theory]
        // Jinja resolves filters when compiling, so even a branch never taken fails.
        [InlineData("FROM base\n{% if false %}\nRUN {{ 'x' | frobnicate }}\n{% endif %}\n", 3, "TemplateUnknownFilter",
            "Unknown filter 'frobnicate'. Known filters: add_user, apt_install, apt_remove, default, image_tag")]
        [InlineData("FROM a\n{% for p in pkg_list %}\nRUN {{ p }} {{ nope }}\n{% endfor %}\n", 3, "TemplateUnknownVariable", "'nope'")]
        [InlineData("FROM a\n{% for p in pkg_list %}\nRUN {{ p }} {{ nope }}\n{% endfor %}\n", 3, "TemplateUnknownVariable", "imagetools.yaml")]
        [InlineData("FROM a\n{% for p in pkg_list %}\nRUN {{ p }} {{ nope }}\n{% endfor %}\n", 3, "TemplateUnknownVariable", "config.yaml")]
        [InlineData("\n\n{% if undefined_flag %}x{% endif %}", 3, "TemplateUnknownVariable", "'undefined_flag'")]
        [InlineData("\n\n{% if debug %}{% elif other_flag %}{% endif %}", 3, "TemplateUnknownVariable", "'other_flag'")]
        [InlineData("{{\n  nope\n}}", 1, "TemplateUnknownVariable", "'nope'")]
        [InlineData("{{ mapping.missing }}", 1, "TemplateUnknownVariable", "mapping.missing")]
        [InlineData("FROM x\nFROM {{ 'ghost' | image_tag }}\n", 2, "TemplateUnknownImage", "no image named 'ghost'")]
        [InlineData("{{ 'x:1' | upstream_version('y') }}", 1, "TemplateSyntaxError", "takes no arguments")]
        [InlineData("{{ 'x:1' | join(',', 'extra') }}", 1, "TemplateSyntaxError", "at most 1")]
        [InlineData("\n{{ 'noversion' | upstream_version }}", 2, "TemplateFilterError", "image:tag")]
        [InlineData("{{ 'x:1.0_beta-1' | upstream_version }}", 1, "TemplateFilterError", "not a Debian version")]
        [InlineData("{{ 'ghost' | add_user }}", 1, "TemplateFilterError", "known_uid_mappings")]
        [InlineData("a\n{% endif %}", 2, "TemplateSyntaxError", "no matching '{% if %}'")]
        [InlineData("a\n\n{% endfor %}", 3, "TemplateSyntaxError", "no matching '{% for %}'")]
        [InlineData("{% if debug %}\n{% else %}\n{% else %}\n{% endif %}", 3, "TemplateSyntaxError", "after '{% else %}'")]
        [InlineData("x\n{% for p in pkg_list %}\nRUN {{ p }}\n", 2, "TemplateSyntaxError", "{% endfor %}")]
        [InlineData("x\n{% raw %}{{ .Go }}\n", 2, "TemplateSyntaxError", "{% endraw %}")]
        [InlineData("FROM {{ registry \n", 1, "TemplateSyntaxError", "never closed")]
        [InlineData("a\n{# comment", 2, "TemplateSyntaxError", "never closed")]
        [InlineData("{{ 'unterminated }}", 1, "TemplateSyntaxError", "never closed")]
        [InlineData("{{ }}", 1, "TemplateSyntaxError", "empty")]
        [InlineData("FROM base\n{% include 'x' %}\n", 2, "TemplateIncludeNotFound", "include 'x'")]
        [InlineData("{% call m() %}{% endcall %}", 1, "TemplateUnsupportedSyntax", "supported: if, elif, else, endif, for, endfor, set")]
        [InlineData("{% extends 'base' %}", 1, "TemplateUnsupportedSyntax", "extends")]
        [InlineData("{% do pkg_list.pop() %}", 1, "TemplateUnsupportedSyntax", "not part of the template language")]
        [InlineData("{% for k, v in mapping %}{% endfor %}", 1, "TemplateUnsupportedSyntax", "for name in list")]
        [InlineData("{% set x %}block{% endset %}", 1, "TemplateUnsupportedSyntax", "set name = value")]
        [InlineData("\n{{ 'a' if debug else 'b' }}", 2, "TemplateUnsupportedSyntax", "'if debug else 'b''")]
        [InlineData("{{ count + 1 }}", 1, "TemplateUnsupportedSyntax", "'+ 1'")]
        [InlineData("{{ mapping.items() }}", 1, "TemplateUnsupportedSyntax", "not part of the template language")]
        public void Errors_name_the_tag_line(string template, int line, string errorId, string expected)
        {
            var error = Assert.Throws<ImageToolsException>(() => TemplateJinjaCompatibilityTests.Render(template));

            Assert.Equal(errorId, error.ErrorId);
            Assert.Equal(FaultKind.InvalidData, error.Kind);
            Assert.Equal("/t/Dockerfile.template", error.FilePath);
            Assert.Equal(line, error.Line);
            Assert.StartsWith($"/t/Dockerfile.template:{line}: ", error.Message);
            Assert.Contains(expected, error.Message);
        }
    }
}
