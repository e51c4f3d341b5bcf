using System.Collections.Generic;
using ImageTools.Formats.Templates;
using Xunit;

namespace ImageTools.Tests.Definitions
{
    public class TemplateRendererTests
    {
        private static readonly Dictionary<string, string> Tags = new Dictionary<string, string>
        {
            ["foo-bar"] = "registry.example.org/ops/foo-bar:0.0.1",
            ["upstream-version"] = "registry.example.org/ops/upstream-version:1.63.0-1",
            ["upstream-version-extended"] = "registry.example.org:5000/upstream-version-extended:1.63.0-1-20241211",
        };

        private static string Render(string template, Dictionary<string, object?>? variables = null)
        {
            var config = new Dictionary<string, object?>
            {
                ["registry"] = "registry.example.org",
                ["apt_options"] = "",
                ["apt_only_proxy"] = null,
                ["known_uid_mappings"] = new Dictionary<string, object?> { ["root"] = 0L, ["www-data"] = 33L },
                ["packages"] = new List<object?> { "curl", "jq" },
                ["debug"] = false,
            };
            foreach (var pair in variables ?? new Dictionary<string, object?>()) config[pair.Key] = pair.Value;
            return new TemplateRenderer(config, name => Tags.TryGetValue(name, out var tag) ? tag : null).Render(template, "/t/Dockerfile.template");
        }

        [Fact]
        public void Renders_docker_pkg_fixture_templates()
        {
            // Jinja drops the template's final newline (keep_trailing_newline is off in docker-pkg).
            Assert.Equal("FROM registry.example.org/ops/foo-bar:0.0.1\n\nCOPY /build/x /bin/x",
                Render("FROM {{ \"foo-bar\" | image_tag }}\n\nCOPY /build/x /bin/x\n"));
            Assert.Equal("ARG UPSTREAM_VERSION=1.63.0",
                Render("ARG UPSTREAM_VERSION={{ \"upstream-version\" | image_tag | upstream_version }}\n"));
            Assert.Equal("ARG UPSTREAM_VERSION=1.63.0",
                Render("ARG UPSTREAM_VERSION={{ \"upstream-version-extended\" | image_tag | upstream_version }}\n"));
        }

        [Theory]
        [InlineData("x:1.2.3", "1.2.3")]
        [InlineData("x:1.2.3-1", "1.2.3")]
        [InlineData("x:2:1.2-3", "1.2")]
        [InlineData("x:1.0-1-20241211", "1.0")]
        [InlineData("x:0.1.2-1-s8", "0.1.2")]
        [InlineData("x:0.1.2-s1", "0.1.2")]
        [InlineData("localhost:5000/x:4.1-2", "4.1")]
        public void Upstream_version_follows_docker_pkg(string tag, string expected) =>
            Assert.Equal(expected, Render("{{ '" + tag + "' | upstream_version }}"));

        [Fact]
        public void Apt_filters_produce_docker_pkg_commands()
        {
            Assert.Equal(
                "RUN apt-get update  \\\n    && DEBIAN_FRONTEND=noninteractive \\\n    apt-get install  --yes curl jq --no-install-recommends \\\n" +
                "    && apt-get clean && rm -rf /var/lib/apt/lists/* ",
                Render("RUN {{ \"curl\njq\" | apt_install }}\n"));
            Assert.Equal(
                "echo 'Acquire::http::Proxy \"http://proxy:8080\";' > /etc/apt/apt.conf.d/80_proxy \\\n    && apt-get update -q \\\n" +
                "    && DEBIAN_FRONTEND=noninteractive \\\n    apt-get install -q --yes curl --no-install-recommends \\\n" +
                "    && rm -f /etc/apt/apt.conf.d/80_proxy \\\n    && apt-get clean && rm -rf /var/lib/apt/lists/* ",
                Render("{{ 'curl' | apt_install }}", new Dictionary<string, object?> { ["apt_only_proxy"] = "http://proxy:8080", ["apt_options"] = "-q" }));
            Assert.Equal(
                "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get remove --yes --purge gcc \\\n    && apt-get clean && rm -rf /var/lib/apt/lists/* ",
                Render("{{ 'gcc' | apt_remove }}"));
        }

        [Fact]
        public void Uid_and_add_user_use_known_mappings()
        {
            Assert.Equal("USER 33", Render("USER {{ 'www-data' | uid }}"));
            Assert.Equal("USER nobody-known", Render("USER {{ 'nobody-known' | uid }}"));
            Assert.Equal("groupadd -o -g 33 -r www-data && useradd -l -o -r -m -d /var/lib/www-data -g www-data -u 33 www-data",
                Render("{{ 'www-data' | add_user }}"));
            Assert.Equal("TemplateFilterError", Assert.Throws<ImageToolsException>(() => Render("{{ 'ghost' | add_user }}")).ErrorId);
        }

        [Fact]
        public void Statements_and_whitespace_control()
        {
            const string template =
                "FROM base\n" +
                "{% if debug %}\nRUN debug\n{% elif registry == 'registry.example.org' -%}\n" +
                "RUN prod\n" +
                "{%- else %}\nRUN other\n{% endif %}\n" +
                "{% set greeting = 'hi' ~ ' there' %}" +
                "{% for p in packages %}RUN install {{ p }} {{ greeting }}\n{% endfor %}" +
                "{# a comment #}" +
                "{{- ' tail' if false else '' if true else '' }}";

            Assert.Equal("TemplateUnsupportedSyntax", Assert.Throws<ImageToolsException>(() => Render(template)).ErrorId);
            Assert.Equal("FROM base\nRUN prod\nRUN install curl hi there\nRUN install jq hi there\nend",
                Render(template.Replace("{{- ' tail' if false else '' if true else '' }}", "{{- 'end' }}")));
        }

        [Fact]
        public void Defaults_membership_and_attribute_access()
        {
            Assert.Equal("x", Render("{{ missing | default('x') }}"));
            Assert.Equal("0", Render("{{ known_uid_mappings.root }}"));
            Assert.Equal("33", Render("{{ known_uid_mappings['www-data'] }}"));
            Assert.Equal("yes", Render("{% if 'jq' in packages and not debug %}yes{% endif %}"));
            Assert.Equal("curl,jq", Render("{{ packages | join(',') }}"));
        }

        [Theory]
        [InlineData("FROM base\n\nRUN {{ nope }}\n", 3, "TemplateUnknownVariable", "'nope'")]
        [InlineData("FROM base\nRUN {{ 'x' | frobnicate }}\n", 2, "TemplateUnknownFilter", "image_tag")]
        [InlineData("FROM {{ 'ghost' | image_tag }}\n", 1, "TemplateUnknownImage", "'ghost'")]
        [InlineData("FROM base\n{% include 'x' %}\n", 2, "TemplateIncludeNotFound", "include 'x'")]
        [InlineData("FROM base\n{% if debug %}\nRUN x\n", 2, "TemplateSyntaxError", "endif")]
        [InlineData("FROM {{ registry \n", 1, "TemplateSyntaxError", "never closed")]
        [InlineData("{{ known_uid_mappings.ghost }}", 1, "TemplateUnknownVariable", "known_uid_mappings.ghost")]
        [InlineData("{{ 'noversion' | upstream_version }}", 1, "TemplateFilterError", "image:tag")]
        public void Errors_name_the_template_line(string template, int line, string errorId, string expected)
        {
            var error = Assert.Throws<ImageToolsException>(() => Render(template));

            Assert.Equal(errorId, error.ErrorId);
            Assert.Equal("/t/Dockerfile.template", error.FilePath);
            Assert.Equal(line, error.Line);
            Assert.Contains(expected, error.Message);
        }

        [Fact]
        public void Do_statements_append_extend_and_update_as_jinja2_ext_do_does()
        {
            Assert.Equal("curl,jq,git,make,vim",
                Render("{% set extra = ['git'] %}{% do extra.append('make') %}{% do extra.extend(['vim']) %}{% set all = packages %}" +
                       "{% do all.extend(extra) %}{{ all | join(',') }}\n"));
            Assert.Equal("0 33 7", Render("{% do known_uid_mappings.update(more) %}{{ known_uid_mappings['root'] }} {{ known_uid_mappings['www-data'] }} {{ known_uid_mappings['app'] }}\n",
                new Dictionary<string, object?> { ["more"] = new Dictionary<string, object?> { ["app"] = 7L } }));
        }

        [Fact]
        public void A_do_statement_changes_this_renders_copy_of_the_config_not_the_config()
        {
            var packages = new List<object?> { "curl" };
            var config = new Dictionary<string, object?> { ["packages"] = packages };
            var renderer = new TemplateRenderer(config, _ => null);

            var first = renderer.Render("{% do packages.append('git') %}{{ packages | join(',') }}\n", "/a/Dockerfile.template");
            var second = renderer.Render("{{ packages | join(',') }}\n", "/b/Dockerfile.template");

            Assert.Equal(("curl,git", "curl"), (first, second));
            Assert.Equal(new object?[] { "curl" }, packages);
        }

        [Theory]
        [InlineData("{% do packages.pop() %}\n", "not part of the template language")]
        [InlineData("{% do debug.append(1) %}\n", "cannot be called")]
        public void Other_calls_are_refused_naming_what_is_allowed(string template, string expected)
        {
            var error = Assert.Throws<ImageToolsException>(() => Render(template));

            Assert.Contains(expected, error.Message);
            Assert.Equal("/t/Dockerfile.template", error.FilePath);
        }

        [Theory]
        // Expected texts are what Jinja 3 (Debian's python3-jinja2) renders.
        [InlineData("{% macro pkg(name, version='latest') %}{{ name }}={{ version }}{% endmacro %}RUN apt-get install {{ pkg('curl') }} {{ pkg('jq', '1.6') }}\n",
            "RUN apt-get install curl=latest jq=1.6")]
        [InlineData("{% set prefix = 'x-' %}{% macro tagged(n) -%}\n{{ prefix }}{{ n }}\n{%- endmacro %}{{ tagged('a') }}|{{ tagged('b') | upper }}\n", "x-a|X-B")]
        public void Macros_render_as_Jinja_renders_them(string template, string expected) => Assert.Equal(expected, Render(template));

        [Theory]
        [InlineData("{% macro m(a) %}{{ a }}{% endmacro %}{{ m() }}\n", "needs its argument 'a'")]
        [InlineData("{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, 2) }}\n", "takes 1 argument(s), not 2")]
        [InlineData("{{ nothing(1) }}\n", "calls no macro")]
        public void Macro_calls_that_cannot_work_are_refused(string template, string expected) =>
            Assert.Contains(expected, Assert.Throws<ImageToolsException>(() => Render(template)).Message);

        /// <summary>docker-pkg's environment has a FileSystemLoader on the image directory: includes name files below it.</summary>
        [Fact]
        public void Include_renders_a_file_of_the_image_directory_with_the_variables_where_it_stands()
        {
            using var tree = new TestTree()
                .Write("img/snippets/apt.jinja", "RUN {{ packages | join(' ') }} {{ flavour }}\n{% include 'snippets/footer.jinja' %}\n")
                .Write("img/snippets/footer.jinja", "LABEL from={{ registry }}\n")
                .Write("img/nocontext.jinja", "{{ flavour | default('none') }}\n");
            var path = tree.PathOf("img/Dockerfile.template");
            var renderer = new TemplateRenderer(new Dictionary<string, object?> { ["registry"] = "r.example.org", ["packages"] = new List<object?> { "curl", "jq" } }, _ => null);

            // Each included template loses one final newline, as every template Jinja loads.
            Assert.Equal("FROM x\nRUN curl jq spicy\nLABEL from=r.example.org\nEND",
                renderer.Render("FROM x\n{% set flavour = 'spicy' %}{% include 'snippets/apt.jinja' %}\nEND\n", path));
            Assert.Equal("a b", renderer.Render("a{% include 'missing.jinja' ignore missing %} b", path));
            Assert.Equal("none", renderer.Render("{% set flavour = 'spicy' %}{% include 'nocontext.jinja' without context %}", path));
            Assert.Equal("spicy", renderer.Render("{% set flavour = 'spicy' %}{% include 'nocontext.jinja' with context %}", path));

            var escape = Assert.Throws<ImageToolsException>(() => renderer.Render("FROM x\n{% include '../outside' %}", path));
            Assert.Equal(("TemplateIncludeInvalid", path, 2), (escape.ErrorId, escape.FilePath, escape.Line));
            tree.Write("img/loop.jinja", "{% include 'loop.jinja' %}");
            Assert.Equal("TemplateIncludeInvalid", Assert.Throws<ImageToolsException>(() => renderer.Render("{% include 'loop.jinja' %}", path)).ErrorId);
            // An error inside an included file names that file and its line.
            tree.Write("img/broken.jinja", "ok\n{{ nope }}\n");
            var inner = Assert.Throws<ImageToolsException>(() => renderer.Render("{% include 'broken.jinja' %}", path));
            Assert.Equal(("TemplateUnknownVariable", tree.PathOf("img/broken.jinja"), 2), (inner.ErrorId, inner.FilePath, inner.Line));
        }
    }
}
